package kernels

import (
	"math"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// Batch-norm kernels over x [M, C], channels last (an NHWC activation
// flattened to M = N·H·W rows). Every loop runs along rows with the
// channel as the inner, contiguous axis. Reductions are summed per fixed
// block of rows and the blocks combined in order, so results do not depend
// on the number of workers.

// bnBlock is the row block of the per-channel reductions.
const bnBlock = 256

// BatchNormStats computes the per-channel mean and biased variance of
// x [M, C] in one pass over x: sums of x − x[0] and (x − x[0])², in
// float32 within blocks of 256 rows and float64 across blocks (the shift
// keeps E[x²] − E[x]² accurate when |mean| ≫ std):
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
	bnReduce(m, c, func(r0, r1 int, s1, s2 []float32) {
		for c0 := 0; c0 < c; c0 += bnChans {
			c1 := min(c0+bnChans, c)
			bnStatsBlock(x[r0*c+c0:], r1-r0, c, shift[c0:c1], s1[c0:c1], s2[c0:c1])
		}
	}, func(i int, t1, t2 float64) {
		d := t1 / float64(m)
		mean[i] = float32(float64(shift[i]) + d)
		variance[i] = float32(max(t2/float64(m)-d*d, 0))
	})
}

// bnReduce computes two per-channel sums over the rows of an [M, C]
// array: block accumulates rows [r0, r1) into s1 and s2 ([C] each, zeroed
// first) for fixed blocks of bnBlock rows, split among the workers; the
// blocks are then added in order in float64 and done receives the totals
// of each channel. The result does not depend on the number of workers.
func bnReduce(m, c int, block func(r0, r1 int, s1, s2 []float32), done func(i int, t1, t2 float64)) {
	nb := convCeil(m, bnBlock)
	tmp := getConvTmp(nb * 2 * c)
	defer convTmpPool.Put(tmp)
	part := *tmp
	parallel.For(nb, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			p := part[b*2*c : (b+1)*2*c]
			clear(p)
			block(b*bnBlock, min((b+1)*bnBlock, m), p[:c], p[c:])
		}
	})
	for i := 0; i < c; i++ {
		var t1, t2 float64
		for b := 0; b < nb; b++ {
			t1 += float64(part[b*2*c+i])
			t2 += float64(part[b*2*c+c+i])
		}
		done(i, t1, t2)
	}
}

// bnChans is the channel block of the batch-norm kernels: four zmm.
const bnChans = 64

// bnStatsBlock accumulates shifted sums over rows rows of the channels
// [0, len(s1)) (at most 64) of x, whose rows are ld apart:
//
//	for r := 0; r < rows; r++ {
//		for i := range s1 {
//			d := x[r*ld+i] - shift[i]
//			s1[i] += d
//			s2[i] += d * d
//		}
//	}
func bnStatsBlock(x []float32, rows, ld int, shift, s1, s2 []float32) {
	if rows == 0 {
		return
	}
	if useConvAVX512 {
		bnStatsAVX512(&x[0], &shift[0], &s1[0], &s2[0], rows, ld, colMask(len(s1)))
		return
	}
	nc := len(s1)
	shift, s2 = shift[:nc], s2[:nc]
	for r := 0; r < rows; r++ {
		row := x[r*ld : r*ld+nc]
		for i, v := range row {
			d := v - shift[i]
			s1[i] += d
			s2[i] += d * d
		}
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
		for c0 := 0; c0 < c; c0 += bnChans {
			c1 := min(c0+bnChans, c)
			bnApplyBlock(x[lo*c+c0:], y[lo*c+c0:], hi-lo, c, scale[c0:c1], shift[c0:c1], relu)
		}
	})
}

// bnApplyBlock computes the affine map (and ReLU) over rows rows of the
// channels [0, len(scale)) (at most 64), rows ld apart:
//
//	y[r*ld+i] = x[r*ld+i]*scale[i] + shift[i]    (then max(·, 0) when relu)
func bnApplyBlock(x, y []float32, rows, ld int, scale, shift []float32, relu bool) {
	if rows == 0 {
		return
	}
	if useConvAVX512 {
		bnApplyAVX512(&x[0], &y[0], &scale[0], &shift[0], rows, ld, colMask(len(scale)), convBool(relu))
		return
	}
	nc := len(scale)
	shift = shift[:nc]
	for r := 0; r < rows; r++ {
		xr, yr := x[r*ld:r*ld+nc], y[r*ld:r*ld+nc]
		for i, v := range xr {
			z := v*scale[i] + shift[i]
			if relu {
				z = max(z, 0)
			}
			yr[i] = z
		}
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
	bnReduce(m, c, func(r0, r1 int, s1, s2 []float32) {
		for c0 := 0; c0 < c; c0 += bnChans {
			c1 := min(c0+bnChans, c)
			var yb []float32
			if y != nil {
				yb = y[r0*c+c0:]
			}
			bnDyBlock(x[r0*c+c0:], dy[r0*c+c0:], yb, r1-r0, c, mean[c0:c1], s1[c0:c1], s2[c0:c1])
		}
	}, func(i int, t1, t2 float64) {
		sumDy[i] = float32(t1)
		sumDyXhat[i] = float32(t2 * float64(invstd[i]))
	})
}

// bnDyBlock accumulates the backward sums over rows rows of the channels
// [0, len(s1)) (at most 64), rows ld apart:
//
//	g := dy[r*ld+i]          (0 where y[r*ld+i] <= 0, when y is not nil)
//	s1[i] += g
//	s2[i] += g * (x[r*ld+i] - mean[i])
func bnDyBlock(x, dy, y []float32, rows, ld int, mean, s1, s2 []float32) {
	if rows == 0 {
		return
	}
	if useConvAVX512 {
		var yp *float32
		if y != nil {
			yp = &y[0]
		}
		bnDyAVX512(&x[0], &dy[0], yp, &mean[0], &s1[0], &s2[0], rows, ld, colMask(len(s1)))
		return
	}
	nc := len(s1)
	mean, s2 = mean[:nc], s2[:nc]
	for r := 0; r < rows; r++ {
		xr, dr := x[r*ld:r*ld+nc], dy[r*ld:r*ld+nc]
		for i, g := range dr {
			if y != nil && !(y[r*ld+i] > 0) {
				continue
			}
			s1[i] += g
			s2[i] += g * (xr[i] - mean[i])
		}
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
		for c0 := 0; c0 < c; c0 += bnChans {
			c1 := min(c0+bnChans, c)
			var yb []float32
			if y != nil {
				yb = y[lo*c+c0:]
			}
			bnDxBlock(x[lo*c+c0:], dy[lo*c+c0:], yb, dx[lo*c+c0:], hi-lo, c, a[c0:c1], b[c0:c1], d[c0:c1])
		}
	})
}

// bnDxBlock accumulates the input gradient over rows rows of the channels
// [0, len(a)) (at most 64), rows ld apart:
//
//	g := dy[r*ld+i]          (0 where y[r*ld+i] <= 0, when y is not nil)
//	dx[r*ld+i] += a[i]*g + b[i]*x[r*ld+i] + d[i]
func bnDxBlock(x, dy, y, dx []float32, rows, ld int, a, b, d []float32) {
	if rows == 0 {
		return
	}
	if useConvAVX512 {
		var yp *float32
		if y != nil {
			yp = &y[0]
		}
		bnDxAVX512(&x[0], &dy[0], yp, &dx[0], &a[0], &b[0], &d[0], rows, ld, colMask(len(a)))
		return
	}
	nc := len(a)
	b, d = b[:nc], d[:nc]
	for r := 0; r < rows; r++ {
		xr, dr, dxr := x[r*ld:r*ld+nc], dy[r*ld:r*ld+nc], dx[r*ld:r*ld+nc]
		for i, g := range dr {
			if y != nil && !(y[r*ld+i] > 0) {
				g = 0
			}
			dxr[i] += a[i]*g + b[i]*xr[i] + d[i]
		}
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
