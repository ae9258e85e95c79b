package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Element-wise unary ops: the output has a's shape; forward and backward
// run over chunks of the flat data (parallel for large tensors).

// unary builds an element-wise op: fwd(dst, x) fills the output, bwd(dx,
// g, x, y) accumulates the input gradient from the output gradient g, the
// input x and the output y (all sub-slices of the same range).
func unary(op Op, a *Value, fwd func(dst, x []float32), bwd func(dx, g, x, y []float32)) *Value {
	out := tensor.GetDirty(a.Shape()...)
	x, y := a.Data.Data, out.Data
	forChunks(len(y), func(lo, hi int) { fwd(y[lo:hi], x[lo:hi]) })
	return newResult(op, out, false, func(g *tensor.Tensor) {
		if !a.requiresGrad {
			return
		}
		dx := a.GradBuf().Data
		forChunks(len(dx), func(lo, hi int) { bwd(dx[lo:hi], g.Data[lo:hi], x[lo:hi], y[lo:hi]) })
	}, a)
}

// Neg returns -a.
func Neg(a *Value) *Value {
	return unary(OpNeg, a,
		func(dst, x []float32) { kernels.Scale(dst, x, -1) },
		func(dx, g, _, _ []float32) { kernels.Axpy(dx, -1, g) })
}

// Scale returns s·a.
func Scale(a *Value, s float32) *Value {
	return unary(OpScale, a,
		func(dst, x []float32) { kernels.Scale(dst, x, s) },
		func(dx, g, _, _ []float32) { kernels.Axpy(dx, s, g) })
}

// AddScalar returns a + s.
func AddScalar(a *Value, s float32) *Value {
	return unary(OpAddScalar, a,
		func(dst, x []float32) { kernels.AddScalar(dst, x, s) },
		func(dx, g, _, _ []float32) { kernels.Axpy(dx, 1, g) })
}

// Exp returns e^a (single-precision kernels.Exp32; d/dx = y).
func Exp(a *Value) *Value {
	return unary(OpExp, a, kernels.Exp,
		func(dx, g, _, y []float32) { kernels.MulAcc(dx, g, y) })
}

// Log returns the natural logarithm of a (d/dx = 1/x).
func Log(a *Value) *Value {
	return unary(OpLog, a,
		func(dst, x []float32) {
			for i, v := range x {
				dst[i] = float32(math.Log(float64(v)))
			}
		},
		func(dx, g, x, _ []float32) {
			for i := range dx {
				dx[i] += g[i] / x[i]
			}
		})
}

// Sqrt returns √a (d/dx = 1/(2y)).
func Sqrt(a *Value) *Value {
	return unary(OpSqrt, a,
		func(dst, x []float32) {
			for i, v := range x {
				dst[i] = float32(math.Sqrt(float64(v)))
			}
		},
		func(dx, g, _, y []float32) {
			for i := range dx {
				dx[i] += 0.5 * g[i] / y[i]
			}
		})
}

// Pow returns a^p element-wise (d/dx = p·x^(p-1)). p = 2 and p = 1 avoid
// math.Pow; a negative base with a non-integer p gives NaN, as in PyTorch.
func Pow(a *Value, p float32) *Value {
	switch p {
	case 1:
		return unary(OpPow, a,
			func(dst, x []float32) { copy(dst, x) },
			func(dx, g, _, _ []float32) { kernels.Axpy(dx, 1, g) })
	case 2:
		return unary(OpPow, a,
			func(dst, x []float32) { kernels.Mul(dst, x, x) },
			func(dx, g, x, _ []float32) {
				for i := range dx {
					dx[i] += 2 * g[i] * x[i]
				}
			})
	}
	pp := float64(p)
	return unary(OpPow, a,
		func(dst, x []float32) {
			for i, v := range x {
				dst[i] = float32(math.Pow(float64(v), pp))
			}
		},
		func(dx, g, x, _ []float32) {
			for i := range dx {
				dx[i] += g[i] * float32(pp*math.Pow(float64(x[i]), pp-1))
			}
		})
}

// ReLU returns max(a, 0). Its gradient at 0 is taken as 0, as in PyTorch.
func ReLU(a *Value) *Value {
	return unary(OpReLU, a, kernels.ReLU,
		func(dx, g, _, y []float32) { kernels.ReLUGrad(dx, g, y) })
}

// Dropout zeroes each element of a with probability p and scales the kept
// ones by 1/(1-p) (inverted dropout, as torch.nn.Dropout), drawing from rng
// in element order, so a seeded rng gives a reproducible mask. When not
// training, or p == 0, it returns a itself. p must lie in [0, 1].
func Dropout(a *Value, p float32, rng *rand.Rand, training bool) *Value {
	if !(p >= 0 && p <= 1) {
		panic(fmt.Sprintf("autograd.Dropout: p = %v outside [0, 1] for shape %v", p, a.Shape()))
	}
	if !training || p == 0 {
		return a
	}
	if rng == nil {
		panic(fmt.Sprintf("autograd.Dropout: nil rng for shape %v", a.Shape()))
	}
	mask := tensor.GetDirty(a.Shape()...)
	keep := float32(0)
	if p < 1 {
		keep = 1 / (1 - p)
	}
	for i := range mask.Data {
		if rng.Float32() < p {
			mask.Data[i] = 0
		} else {
			mask.Data[i] = keep
		}
	}
	out := tensor.GetDirty(a.Shape()...)
	x, m, y := a.Data.Data, mask.Data, out.Data
	forChunks(len(y), func(lo, hi int) { kernels.Mul(y[lo:hi], x[lo:hi], m[lo:hi]) })
	res := newResult(OpDropout, out, false, func(g *tensor.Tensor) {
		if !a.requiresGrad {
			return
		}
		dx := a.GradBuf().Data
		forChunks(len(dx), func(lo, hi int) { kernels.MulAcc(dx[lo:hi], g.Data[lo:hi], m[lo:hi]) })
	}, a)
	if res.requiresGrad {
		res.save(mask)
	} else {
		tensor.Put(mask)
	}
	return res
}
