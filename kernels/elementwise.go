package kernels

import (
	"fmt"
	"math"
)

// Element-wise loops over float32 slices. Each doc comment shows the
// reference loop; the bodies are unrolled by four with the slices re-sliced
// to the destination's length so the compiler drops the bounds checks. None
// of them starts goroutines: callers split long slices with parallel.For
// and pass sub-slices. dst may alias an input (in-place update) in every
// function here.

func checkLen(op string, n int, lens ...int) {
	for _, l := range lens {
		if l != n {
			panic(fmt.Sprintf("kernels.%s: slice lengths %d and %d differ", op, n, l))
		}
	}
}

// Add computes dst = a + b element-wise.
//
//	for i := range dst { dst[i] = a[i] + b[i] }
func Add(dst, a, b []float32) {
	checkLen("Add", len(dst), len(a), len(b))
	a, b = a[:len(dst)], b[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		dst[i] = a[i] + b[i]
		dst[i+1] = a[i+1] + b[i+1]
		dst[i+2] = a[i+2] + b[i+2]
		dst[i+3] = a[i+3] + b[i+3]
	}
	for ; i < len(dst); i++ {
		dst[i] = a[i] + b[i]
	}
}

// Sub computes dst = a - b element-wise.
//
//	for i := range dst { dst[i] = a[i] - b[i] }
func Sub(dst, a, b []float32) {
	checkLen("Sub", len(dst), len(a), len(b))
	a, b = a[:len(dst)], b[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		dst[i] = a[i] - b[i]
		dst[i+1] = a[i+1] - b[i+1]
		dst[i+2] = a[i+2] - b[i+2]
		dst[i+3] = a[i+3] - b[i+3]
	}
	for ; i < len(dst); i++ {
		dst[i] = a[i] - b[i]
	}
}

// Mul computes dst = a * b element-wise.
//
//	for i := range dst { dst[i] = a[i] * b[i] }
func Mul(dst, a, b []float32) {
	checkLen("Mul", len(dst), len(a), len(b))
	a, b = a[:len(dst)], b[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		dst[i] = a[i] * b[i]
		dst[i+1] = a[i+1] * b[i+1]
		dst[i+2] = a[i+2] * b[i+2]
		dst[i+3] = a[i+3] * b[i+3]
	}
	for ; i < len(dst); i++ {
		dst[i] = a[i] * b[i]
	}
}

// Div computes dst = a / b element-wise.
//
//	for i := range dst { dst[i] = a[i] / b[i] }
func Div(dst, a, b []float32) {
	checkLen("Div", len(dst), len(a), len(b))
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] / b[i]
	}
}

// AddScalar computes dst = a + s.
//
//	for i := range dst { dst[i] = a[i] + s }
func AddScalar(dst, a []float32, s float32) {
	checkLen("AddScalar", len(dst), len(a))
	a = a[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		dst[i] = a[i] + s
		dst[i+1] = a[i+1] + s
		dst[i+2] = a[i+2] + s
		dst[i+3] = a[i+3] + s
	}
	for ; i < len(dst); i++ {
		dst[i] = a[i] + s
	}
}

// Scale computes dst = s * a.
//
//	for i := range dst { dst[i] = s * a[i] }
func Scale(dst, a []float32, s float32) {
	checkLen("Scale", len(dst), len(a))
	a = a[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		dst[i] = s * a[i]
		dst[i+1] = s * a[i+1]
		dst[i+2] = s * a[i+2]
		dst[i+3] = s * a[i+3]
	}
	for ; i < len(dst); i++ {
		dst[i] = s * a[i]
	}
}

// DivScalar computes dst = a / s.
//
//	for i := range dst { dst[i] = a[i] / s }
func DivScalar(dst, a []float32, s float32) {
	checkLen("DivScalar", len(dst), len(a))
	a = a[:len(dst)]
	for i := range dst {
		dst[i] = a[i] / s
	}
}

// ScalarSub computes dst = s - b.
//
//	for i := range dst { dst[i] = s - b[i] }
func ScalarSub(dst []float32, s float32, b []float32) {
	checkLen("ScalarSub", len(dst), len(b))
	b = b[:len(dst)]
	for i := range dst {
		dst[i] = s - b[i]
	}
}

// ScalarDiv computes dst = s / b.
//
//	for i := range dst { dst[i] = s / b[i] }
func ScalarDiv(dst []float32, s float32, b []float32) {
	checkLen("ScalarDiv", len(dst), len(b))
	b = b[:len(dst)]
	for i := range dst {
		dst[i] = s / b[i]
	}
}

// Axpy accumulates dst += alpha * x.
//
//	for i := range dst { dst[i] += alpha * x[i] }
func Axpy(dst []float32, alpha float32, x []float32) {
	checkLen("Axpy", len(dst), len(x))
	x = x[:len(dst)]
	i := 0
	if alpha == 1 {
		for ; i+4 <= len(dst); i += 4 {
			dst[i] += x[i]
			dst[i+1] += x[i+1]
			dst[i+2] += x[i+2]
			dst[i+3] += x[i+3]
		}
		for ; i < len(dst); i++ {
			dst[i] += x[i]
		}
		return
	}
	for ; i+4 <= len(dst); i += 4 {
		dst[i] += alpha * x[i]
		dst[i+1] += alpha * x[i+1]
		dst[i+2] += alpha * x[i+2]
		dst[i+3] += alpha * x[i+3]
	}
	for ; i < len(dst); i++ {
		dst[i] += alpha * x[i]
	}
}

// MulAcc accumulates dst += a * b.
//
//	for i := range dst { dst[i] += a[i] * b[i] }
func MulAcc(dst, a, b []float32) {
	checkLen("MulAcc", len(dst), len(a), len(b))
	a, b = a[:len(dst)], b[:len(dst)]
	i := 0
	for ; i+4 <= len(dst); i += 4 {
		dst[i] += a[i] * b[i]
		dst[i+1] += a[i+1] * b[i+1]
		dst[i+2] += a[i+2] * b[i+2]
		dst[i+3] += a[i+3] * b[i+3]
	}
	for ; i < len(dst); i++ {
		dst[i] += a[i] * b[i]
	}
}

// Sum returns the sum of x, accumulated in four float64 lanes: a float32
// running sum of 10⁵ terms would lose about four digits, and pure-Go
// loops are not vectorised, so the wider accumulator costs nothing.
//
//	for _, v := range x { s += v }
func Sum(x []float32) float32 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		s0 += float64(v[0])
		s1 += float64(v[1])
		s2 += float64(v[2])
		s3 += float64(v[3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return float32((s0 + s2) + (s1 + s3))
}

// Dot returns the inner product of a and b (float64 lanes, like Sum).
//
//	for i := range a { s += a[i] * b[i] }
func Dot(a, b []float32) float32 {
	checkLen("Dot", len(a), len(b))
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		va, vb := a[i:i+4:i+4], b[i:i+4:i+4]
		s0 += float64(va[0] * vb[0])
		s1 += float64(va[1] * vb[1])
		s2 += float64(va[2] * vb[2])
		s3 += float64(va[3] * vb[3])
	}
	for ; i < len(a); i++ {
		s0 += float64(a[i] * b[i])
	}
	return float32((s0 + s2) + (s1 + s3))
}

// Max returns the largest element of x (-Inf for an empty x). A NaN in x
// is returned as NaN so that it propagates instead of being skipped.
//
//	m := -Inf; for _, v := range x { m = max(m, v) }
func Max(x []float32) float32 {
	m := negInf
	for _, v := range x {
		if v > m {
			m = v
		} else if v != v {
			return v
		}
	}
	return m
}

// ReLU computes dst = max(a, 0). It clears negative values through the
// sign bit instead of branching (random signs would mispredict half the
// time); -0 becomes +0 and a NaN keeps its payload unless its sign is set.
//
//	for i := range dst { dst[i] = max(a[i], 0) }
func ReLU(dst, a []float32) {
	checkLen("ReLU", len(dst), len(a))
	a = a[:len(dst)]
	for i, v := range a {
		b := math.Float32bits(v)
		dst[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// ReLUGrad accumulates the ReLU backward: dst += g where y > 0, with y
// the output of ReLU (never negative, so y > 0 exactly when its bits
// other than the sign are non-zero; branch-free like ReLU).
//
//	for i := range dst { if y[i] > 0 { dst[i] += g[i] } }
func ReLUGrad(dst, g, y []float32) {
	checkLen("ReLUGrad", len(dst), len(g), len(y))
	g, y = g[:len(dst)], y[:len(dst)]
	for i := range dst {
		b := math.Float32bits(y[i]) << 1  // drop the sign: -0 counts as 0
		keep := uint32(int32(b|-b) >> 31) // all ones when b != 0
		dst[i] += math.Float32frombits(math.Float32bits(g[i]) & keep)
	}
}
