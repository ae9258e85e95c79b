package kernels

import "github.com/contrastive-ssl/contrastive/internal/parallel"

// Epilogue is what Conv2dForwardFused does to the GEMM's result before it
// leaves the cache: add a per-channel bias, keep what y held (a residual
// connection) and clamp at zero.
type Epilogue struct {
	Bias       []float32 // [OC] or nil
	Accumulate bool      // y += conv(x, w) instead of y = conv(x, w)
	ReLU       bool      // y = max(y, 0) after the sums
}

// convInferRows is the row block of a pointwise convolution's GEMM after
// which Conv2dForwardFused runs the epilogue: 4·24 tiles of 14 rows
// (the A block convGemm keeps in L2), so every block streams the weights
// no more often than one call over all rows would, and its output is still
// in L2 when the epilogue passes over it.
const convInferRows = 4 * 24 * convMR

// Conv2dForwardFused computes, for inference,
//
//	y = relu?( conv(x, w) + bias (+ y when e.Accumulate) )
//
// with x [N,H,W,C], wk = PackConvWeights(w), y [N,OH,OW,OC] and scratch ≥
// ConvScratchLen(s). It is Conv2dForward with the bias, the residual sum
// and the ReLU applied per block of rows while the block is in cache,
// instead of in passes over the whole output: a ResNet with its batch
// norms folded into the convolutions (scaled weights, a bias) runs as one
// such call per convolution.
func Conv2dForwardFused(s Conv2dShape, x, wk, y, scratch []float32, e Epilogue) {
	const op = "Conv2dForwardFused"
	s.mustValidate(op)
	rows, k, oc := s.Rows(), s.K(), s.OC
	needLen(op, "x", len(x), s.N*s.H*s.W*s.C)
	needLen(op, "wk", len(wk), ConvPackedLen(s))
	needLen(op, "y", len(y), rows*oc)
	needLen(op, "scratch", len(scratch), ConvScratchLen(s))
	if e.Bias != nil {
		needLen(op, "bias", len(e.Bias), oc)
	}
	direct := s.direct()
	gemm := func(m int, a []float32, lda int, c []float32) {
		if direct {
			convGemm(m, oc, k, a, lda, 1, wk, k*convNR, convNR, c, oc, e.Accumulate)
		} else {
			Sgemm(false, false, m, oc, k, 1, a, lda, wk, oc, convF32(e.Accumulate), c, oc)
		}
	}
	if s.pointwise() {
		for r0 := 0; r0 < rows; r0 += convInferRows {
			r1 := min(r0+convInferRows, rows)
			gemm(r1-r0, x[r0*k:], k, y[r0*oc:r1*oc])
			convEpilogue(y[r0*oc:r1*oc], r1-r0, oc, e)
		}
		return
	}
	if s.tiny() {
		conv2dTinyForward(s, x, wk, y, e.Accumulate)
		convEpilogue(y, rows, oc, e)
		return
	}
	per := s.OutH() * s.OutW()
	step := s.imagesPerChunk()
	_, ldc, _ := s.convScratchParts()
	for n0 := 0; n0 < s.N; n0 += step {
		r0, r1 := n0*per, min(n0+step, s.N)*per
		im2col(s, x, r0, r1, scratch, ldc)
		gemm(r1-r0, scratch, ldc, y[r0*oc:r1*oc])
		convEpilogue(y[r0*oc:r1*oc], r1-r0, oc, e)
	}
}

// convEpilogue adds the bias to y [rows, oc] and clamps it at zero, as e
// says.
func convEpilogue(y []float32, rows, oc int, e Epilogue) {
	if e.Bias == nil && !e.ReLU {
		return
	}
	ones := getConvTmp(min(oc, bnChans))
	defer convTmpPool.Put(ones)
	for i := range *ones {
		(*ones)[i] = 1
	}
	zero := getConvTmp(min(oc, bnChans))
	defer convTmpPool.Put(zero)
	clear(*zero)
	parallel.For(rows, max(1, 8192/max(oc, 1)), func(lo, hi int) {
		for c0 := 0; c0 < oc; c0 += bnChans {
			c1 := min(c0+bnChans, oc)
			shift := (*zero)[:c1-c0]
			if e.Bias != nil {
				shift = e.Bias[c0:c1]
			}
			bnApplyBlock(y[lo*oc+c0:], y[lo*oc+c0:], hi-lo, oc, (*ones)[:c1-c0], shift, e.ReLU)
		}
	})
}

// MaxPool2dInfer is MaxPool2dForward without the argmax, for inference:
// y [N,OH,OW,C] = the maximum over each window of x [N,H,W,C] (padding
// counts as −∞; windows always hold one input at PyTorch's Pad ≤ K/2).
func MaxPool2dInfer(s Pool2dShape, x, y []float32) {
	const op = "MaxPool2dInfer"
	s.mustValidate(op, len(x), len(y))
	oh, ow, c := s.OutH(), s.OutW(), s.C
	parallel.For(s.N*oh, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			n, oy := t/oh, t%oh
			img := x[n*s.H*s.W*c:]
			for ox := 0; ox < ow; ox++ {
				o := ((n*oh+oy)*ow + ox) * c
				yo := y[o : o+c]
				y0, y1, x0, x1 := s.window(oy, ox)
				copy(yo, img[(y0*s.W+x0)*c:(y0*s.W+x0+1)*c])
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						v := img[(iy*s.W+ix)*c : (iy*s.W+ix+1)*c]
						v = v[:len(yo)]
						for i, xv := range v {
							yo[i] = max(yo[i], xv) // NaN propagates
						}
					}
				}
			}
		}
	})
}
