package kernels

import (
	"math"

	"contrastive/internal/parallel"
)

// Batch-norm kernels over x [M, C], channels last (an NHWC activation
// flattened to M = N·H·W rows). Every loop runs along rows with the
// channel as the inner, contiguous axis. Reductions are summed per fixed
// block of rows and the blocks combined in order, so results do not depend
// on the number of workers.

// bnBlock is the row block of the per-channel reductions.
const bnBlock = 256

// BatchNormStats computes the per-channel mean and biased variance of
// x [M, C] in one pass (float64 sums of values shifted by the first row,
// which keeps E[x²]−E[x]² accurate when |mean| ≫ std):
//
//	mean[c] = Σ_m x[m][c] / M
//	variance[c] = Σ_m (x[m][c] − mean[c])² / M
func BatchNormStats(x []float32, m, c int, mean, variance []float32) {
	const op = "BatchNormStats"
	needLen(op, "x", len(x), m*c)
	needLen(op, "mean", len(mean), c)
	needLen(op, "variance", len(variance), c)
	if m == 0 {
		return
	}
	shift := x[:c]
	nb := (m + bnBlock - 1) / bnBlock
	part := make([]float64, nb*2*c)
	parallel.For(nb, 1, func(lo, hi int) {
		s1 := make([]float32, c)
		s2 := make([]float32, c)
		for b := lo; b < hi; b++ {
			clear(s1)
			clear(s2)
			for r := b * bnBlock; r < min((b+1)*bnBlock, m); r++ {
				bnSumSq(s1, s2, x[r*c:(r+1)*c], shift)
			}
			p := part[b*2*c : (b+1)*2*c]
			for i := 0; i < c; i++ {
				p[i] = float64(s1[i])
				p[c+i] = float64(s2[i])
			}
		}
	})
	for i := 0; i < c; i++ {
		var t1, t2 float64
		for b := 0; b < nb; b++ {
			t1 += part[b*2*c+i]
			t2 += part[b*2*c+c+i]
		}
		d := t1 / float64(m)
		mean[i] = float32(float64(shift[i]) + d)
		variance[i] = float32(max(t2/float64(m)-d*d, 0))
	}
}

// bnSumSq accumulates s1 += x − shift and s2 += (x − shift)² over one row.
func bnSumSq(s1, s2, x, shift []float32) {
	x, shift, s2 = x[:len(s1)], shift[:len(s1)], s2[:len(s1)]
	for i := range s1 {
		d := x[i] - shift[i]
		s1[i] += d
		s2[i] += d * d
	}
}

// BatchNormScaleShift turns statistics and affine parameters into the
// per-channel affine map the forward pass applies, y = x·scale + shift:
//
//	invstd[c] = 1/√(variance[c] + eps)
//	scale[c]  = gamma[c]·invstd[c]          (gamma nil: 1)
//	shift[c]  = beta[c] − mean[c]·scale[c]  (beta nil: 0)
func BatchNormScaleShift(mean, variance, gamma, beta []float32, eps float32, invstd, scale, shift []float32) {
	for i := range mean {
		is := float32(1 / math.Sqrt(float64(variance[i])+float64(eps)))
		invstd[i] = is
		g := float32(1)
		if gamma != nil {
			g = gamma[i]
		}
		var b float32
		if beta != nil {
			b = beta[i]
		}
		scale[i] = g * is
		shift[i] = b - mean[i]*scale[i]
	}
}

// BatchNormApply computes y = x·scale + shift per channel, followed by
// max(·, 0) when relu is set. x and y are [M, C] and may be the same slice.
func BatchNormApply(x []float32, m, c int, scale, shift []float32, relu bool, y []float32) {
	const op = "BatchNormApply"
	needLen(op, "x", len(x), m*c)
	needLen(op, "y", len(y), m*c)
	needLen(op, "scale", len(scale), c)
	needLen(op, "shift", len(shift), c)
	parallel.For(m, max(1, 8192/max(c, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			bnAffineRow(y[r*c:(r+1)*c], x[r*c:(r+1)*c], scale, shift, relu)
		}
	})
}

// bnAffineRow computes dst = x·scale + shift (then ReLU when relu is set).
func bnAffineRow(dst, x, scale, shift []float32, relu bool) {
	x, scale, shift = x[:len(dst)], scale[:len(dst)], shift[:len(dst)]
	if relu {
		for i := range dst {
			dst[i] = max(x[i]*scale[i]+shift[i], 0)
		}
		return
	}
	for i := range dst {
		dst[i] = x[i]*scale[i] + shift[i]
	}
}

// BatchNormBackwardReduce computes the two per-channel sums the batch-norm
// backward pass needs, from x, dy [M, C] and the saved mean and invstd:
//
//	sumDy[c]     = Σ_m g[m][c]
//	sumDyXhat[c] = Σ_m g[m][c]·(x[m][c] − mean[c])·invstd[c]
//
// where g = dy, or, when y (the output of the fused BatchNorm+ReLU) is not
// nil, g = dy where y > 0 and 0 elsewhere.
func BatchNormBackwardReduce(x, dy, y []float32, m, c int, mean, invstd, sumDy, sumDyXhat []float32) {
	const op = "BatchNormBackwardReduce"
	needLen(op, "x", len(x), m*c)
	needLen(op, "dy", len(dy), m*c)
	if y != nil {
		needLen(op, "y", len(y), m*c)
	}
	nb := (m + bnBlock - 1) / bnBlock
	part := make([]float64, nb*2*c)
	parallel.For(nb, 1, func(lo, hi int) {
		s1 := make([]float32, c)
		s2 := make([]float32, c)
		for b := lo; b < hi; b++ {
			clear(s1)
			clear(s2)
			for r := b * bnBlock; r < min((b+1)*bnBlock, m); r++ {
				var yr []float32
				if y != nil {
					yr = y[r*c : (r+1)*c]
				}
				bnDyRow(s1, s2, dy[r*c:(r+1)*c], x[r*c:(r+1)*c], yr, mean)
			}
			p := part[b*2*c : (b+1)*2*c]
			for i := 0; i < c; i++ {
				p[i] = float64(s1[i])
				p[c+i] = float64(s2[i])
			}
		}
	})
	for i := 0; i < c; i++ {
		var t1, t2 float64
		for b := 0; b < nb; b++ {
			t1 += part[b*2*c+i]
			t2 += part[b*2*c+c+i]
		}
		sumDy[i] = float32(t1)
		sumDyXhat[i] = float32(t2 * float64(invstd[i]))
	}
}

// bnDyRow accumulates s1 += g and s2 += g·(x − mean) over one row, with
// g = dy masked by y > 0 when y is not nil.
func bnDyRow(s1, s2, dy, x, y, mean []float32) {
	dy, x, mean, s2 = dy[:len(s1)], x[:len(s1)], mean[:len(s1)], s2[:len(s1)]
	if y != nil {
		y = y[:len(s1)]
		for i := range s1 {
			if y[i] > 0 {
				s1[i] += dy[i]
				s2[i] += dy[i] * (x[i] - mean[i])
			}
		}
		return
	}
	for i := range s1 {
		s1[i] += dy[i]
		s2[i] += dy[i] * (x[i] - mean[i])
	}
}

// BatchNormBackwardInput accumulates the input gradient of a batch norm
// expressed per channel as dx += a·g + b·x + d, with g = dy masked by
// y > 0 when y is not nil (fused ReLU). For training-mode batch norm
//
//	a = γ·invstd, b = −γ·invstd²·sumDyXhat/M, d = −γ·invstd·sumDy/M − b·mean
//
// and for eval mode a = γ·invstd, b = d = 0 (see BatchNormBackwardCoeffs).
func BatchNormBackwardInput(x, dy, y []float32, m, c int, a, b, d, dx []float32) {
	const op = "BatchNormBackwardInput"
	needLen(op, "x", len(x), m*c)
	needLen(op, "dy", len(dy), m*c)
	needLen(op, "dx", len(dx), m*c)
	if y != nil {
		needLen(op, "y", len(y), m*c)
	}
	parallel.For(m, max(1, 8192/max(c, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			var yr []float32
			if y != nil {
				yr = y[r*c : (r+1)*c]
			}
			bnDxRow(dx[r*c:(r+1)*c], dy[r*c:(r+1)*c], x[r*c:(r+1)*c], yr, a, b, d)
		}
	})
}

// bnDxRow computes dx += a·g + b·x + d over one row (g as in
// BatchNormBackwardInput).
func bnDxRow(dx, dy, x, y, a, b, d []float32) {
	dy, x, a, b, d = dy[:len(dx)], x[:len(dx)], a[:len(dx)], b[:len(dx)], d[:len(dx)]
	if y != nil {
		y = y[:len(dx)]
		for i := range dx {
			g := dy[i]
			if !(y[i] > 0) {
				g = 0
			}
			dx[i] += a[i]*g + b[i]*x[i] + d[i]
		}
		return
	}
	for i := range dx {
		dx[i] += a[i]*dy[i] + b[i]*x[i] + d[i]
	}
}

// BatchNormBackwardCoeffs fills the per-channel coefficients of
// BatchNormBackwardInput. training selects the full formula through the
// batch statistics; otherwise the statistics are constants. gamma nil
// means 1.
func BatchNormBackwardCoeffs(m int, gamma, mean, invstd, sumDy, sumDyXhat []float32, training bool, a, b, d []float32) {
	for i := range invstd {
		g := float32(1)
		if gamma != nil {
			g = gamma[i]
		}
		a[i] = g * invstd[i]
		if !training {
			b[i], d[i] = 0, 0
			continue
		}
		inv := 1 / float32(m)
		b[i] = -a[i] * invstd[i] * sumDyXhat[i] * inv
		d[i] = -a[i]*sumDy[i]*inv - b[i]*mean[i]
	}
}
