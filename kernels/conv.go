package kernels

//go:generate sh -c "cd _convasm && go run . -out .."

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// Conv2dShape describes a 2-D convolution over NHWC activations with a
// square kernel, the same stride along both axes and the same zero padding
// on every side (PyTorch's nn.Conv2d with groups=1, dilation=1).
//
//	x  [N, H, W, C]      input activations (NHWC)
//	w  [OC, C, KH, KW]   weights as torchvision stores them (OIHW)
//	wk                   the weights repacked by PackConvWeights (conv_pack.go)
//	y  [N, OH, OW, OC]   output, OH = (H + 2·Pad − KH)/Stride + 1
//
// In NHWC the convolution is one GEMM: Y[N·OH·OW, OC] = col · W, where
// row (n, oh, ow) of col[N·OH·OW, K = KH·KW·C] holds the KH·KW input
// pixels (each a contiguous C-vector) under that output position and
// W[K, OC] is w in the same (kh, kw, c) order. The backward passes are
// two more GEMMs: dcol = dy · Wᵀ (scattered back by col2im) and
// dW = colᵀ · dy.
type Conv2dShape struct {
	N, H, W, C  int
	OC, KH, KW  int
	Stride, Pad int
}

// OutH returns the output height.
func (s Conv2dShape) OutH() int { return (s.H+2*s.Pad-s.KH)/s.Stride + 1 }

// OutW returns the output width.
func (s Conv2dShape) OutW() int { return (s.W+2*s.Pad-s.KW)/s.Stride + 1 }

// Rows returns N·OH·OW, the row count of the convolution's GEMM.
func (s Conv2dShape) Rows() int { return s.N * s.OutH() * s.OutW() }

// K returns KH·KW·C, the inner dimension of the convolution's GEMM.
func (s Conv2dShape) K() int { return s.KH * s.KW * s.C }

// FLOPs returns the floating-point operations of the forward pass
// (2·N·OH·OW·OC·KH·KW·C); backward-data and backward-weights cost the same.
func (s Conv2dShape) FLOPs() float64 {
	return 2 * float64(s.Rows()) * float64(s.OC) * float64(s.K())
}

// Validate reports whether the shape describes a convolution with a
// non-empty output.
func (s Conv2dShape) Validate() error {
	switch {
	case s.N < 1 || s.H < 1 || s.W < 1 || s.C < 1 || s.OC < 1 || s.KH < 1 || s.KW < 1:
		return fmt.Errorf("non-positive size in %+v", s)
	case s.Stride < 1:
		return fmt.Errorf("stride %d < 1", s.Stride)
	case s.Pad < 0:
		return fmt.Errorf("negative padding %d", s.Pad)
	case s.H+2*s.Pad < s.KH || s.W+2*s.Pad < s.KW:
		return fmt.Errorf("kernel %dx%d larger than padded input %dx%d", s.KH, s.KW, s.H+2*s.Pad, s.W+2*s.Pad)
	}
	return nil
}

// pointwise reports whether the convolution is a plain GEMM on x
// (1×1 kernel, stride 1, no padding): col would be x itself.
func (s Conv2dShape) pointwise() bool {
	return s.KH == 1 && s.KW == 1 && s.Stride == 1 && s.Pad == 0
}

// ConvChunkBytes bounds the im2col scratch matrix: the convolution GEMMs
// run over chunks of whole images whose col rows fit in this many bytes
// (at least one image per chunk, whatever its size). Layers with large
// weights use chunks of up to four times this, at most twice the weights'
// size, since every chunk streams all of them once.
var ConvChunkBytes = 2 << 20

// imagesPerChunk returns how many images one im2col chunk holds.
func (s Conv2dShape) imagesPerChunk() int {
	budget := max(ConvChunkBytes, min(4*ConvChunkBytes, 2*4*s.OC*s.K()))
	per := s.OutH() * s.OutW() * s.K() * 4
	return max(1, min(s.N, budget/max(per, 1)))
}

// convPadStride returns the row stride for a matrix of n-float rows read
// 14 rows at a time by a tile: n itself unless rows n·4 bytes apart would
// fall into so few L1 sets (n a multiple of 256 floats, say) that the 14
// rows' lines and the B slice evict each other; then one cache line more.
func convPadStride(n int) int {
	if n%16 == 0 {
		adv := (n / 16) % 64 // L1 sets (of 64) between consecutive rows
		g := 64
		for a := adv; a != 0; a, g = g%a, a {
		}
		if g > 8 {
			return n + 16
		}
	}
	return n
}

// convScratchParts returns the per-chunk row count and, on the direct
// path, the row strides of the column matrix (ldc) and of the padded copy
// of dy (ldy, 0 when dy is read in place).
func (s Conv2dShape) convScratchParts() (rows, ldc, ldy int) {
	rows = s.imagesPerChunk() * s.OutH() * s.OutW()
	if !s.direct() {
		return rows, s.K(), 0
	}
	ldc = max(convPadStride(s.K()), convRound(s.K(), convNR)) // also holds the weight gradient's col panels
	if p := convPadStride(s.OC); p != s.OC {
		ldy = p
	}
	return rows, ldc, ldy
}

// ConvScratchLen returns the length of the scratch slice Conv2dForward and
// Conv2dBackward need for s (0 for a pointwise convolution).
func ConvScratchLen(s Conv2dShape) int {
	if s.pointwise() {
		return 0
	}
	rows, ldc, ldy := s.convScratchParts()
	return rows * (ldc + ldy)
}

func (s Conv2dShape) mustValidate(op string) {
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("kernels.%s: %v", op, err))
	}
}

func needLen(op, what string, got, want int) {
	if got < want {
		panic(fmt.Sprintf("kernels.%s: %s has %d elements, want %d", op, what, got, want))
	}
}

// Conv2dForward computes y = conv(x, w) + bias.
//
//	x [N,H,W,C], wk = PackConvWeights(w), bias [OC] or nil,
//	y [N,OH,OW,OC] (overwritten), scratch ≥ ConvScratchLen(s)
//
// A pointwise convolution is one GEMM on x; any other runs im2col and the
// GEMM chunk by chunk through scratch. On the direct path (AVX-512) the
// GEMM is convGemm, whose register tiles read the im2col rows in place;
// otherwise it is Sgemm.
func Conv2dForward(s Conv2dShape, x, wk, bias, y, scratch []float32) {
	const op = "Conv2dForward"
	s.mustValidate(op)
	rows, k, oc := s.Rows(), s.K(), s.OC
	needLen(op, "x", len(x), s.N*s.H*s.W*s.C)
	needLen(op, "wk", len(wk), ConvPackedLen(s))
	needLen(op, "y", len(y), rows*oc)
	needLen(op, "scratch", len(scratch), ConvScratchLen(s))
	if bias != nil {
		needLen(op, "bias", len(bias), oc)
	}
	direct := s.direct()
	gemm := func(m int, a []float32, lda int, c []float32) {
		if direct {
			convGemm(m, oc, k, a, lda, 1, wk, k*convNR, convNR, c, oc, false)
		} else {
			Sgemm(false, false, m, oc, k, 1, a, lda, wk, oc, 0, c, oc)
		}
	}
	if s.pointwise() {
		gemm(rows, x, k, y)
	} else if s.tiny() {
		conv2dTinyForward(s, x, wk, y, false)
	} else {
		per := s.OutH() * s.OutW()
		step := s.imagesPerChunk()
		_, ldc, _ := s.convScratchParts()
		for n0 := 0; n0 < s.N; n0 += step {
			r0, r1 := n0*per, min(n0+step, s.N)*per
			im2col(s, x, r0, r1, scratch, ldc)
			gemm(r1-r0, scratch, ldc, y[r0*oc:r1*oc])
		}
	}
	if bias != nil {
		parallel.For(rows, 256, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				vecAcc(y[r*oc:(r+1)*oc], bias[:oc])
			}
		})
	}
}

// Conv2dBackward accumulates the gradients of a convolution given dy, the
// gradient of its output:
//
//	dx  [N,H,W,C]   += conv_transpose(dy, w)          (skipped when dx is nil)
//	dwk [OC·K]      += the weight gradient, packed     (skipped when dwk is nil;
//	                   UnpackConvWeightsGrad adds it into OIHW)
//
// x and wk (PackConvWeights) are the forward inputs, dy is [N,OH,OW,OC],
// scratch ≥ ConvScratchLen(s). Per chunk it recomputes im2col(x) for the
// weight gradient, then reuses the same scratch for dcol = dy · Wᵀ, which
// col2im adds into dx. The bias gradient is ConvBiasGrad.
func Conv2dBackward(s Conv2dShape, x, wk, dy, dx, dwk, scratch []float32) {
	const op = "Conv2dBackward"
	s.mustValidate(op)
	rows, k, oc := s.Rows(), s.K(), s.OC
	needLen(op, "dy", len(dy), rows*oc)
	needLen(op, "scratch", len(scratch), ConvScratchLen(s))
	if dwk != nil {
		needLen(op, "x", len(x), s.N*s.H*s.W*s.C)
		needLen(op, "dwk", len(dwk), ConvWeightGradLen(s))
	}
	if dx != nil {
		needLen(op, "wk", len(wk), ConvPackedLen(s))
		needLen(op, "dx", len(dx), s.N*s.H*s.W*s.C)
	}
	// weights: dwk += colᵀ·dy (HWIO) or dyᵀ·col (OHWI, direct; col in
	// panels unless it is x itself)
	direct := s.direct()
	weights := func(m int, col, dyc []float32, panels bool) {
		switch {
		case !direct:
			Sgemm(true, false, k, oc, m, 1, col, k, dyc, oc, 1, dwk, oc)
		case panels:
			convGemm(oc, k, m, dyc, 1, oc, col, m*convNR, convNR, dwk, k, true)
		default:
			convGemm(oc, k, m, dyc, 1, oc, col, convNR, k, dwk, k, true)
		}
	}
	// data: dcol (+)= dy·Wᵀ, dy rows lda apart, dcol rows ldc apart
	data := func(m int, dyc []float32, lda int, dcol []float32, ldc int, accumulate bool) {
		if direct {
			convGemm(m, k, oc, dyc, lda, 1, wk[convRound(oc, convNR)*k:], oc*convNR, convNR, dcol, ldc, accumulate)
		} else {
			Sgemm(false, true, m, k, oc, 1, dyc, lda, wk, oc, convF32(accumulate), dcol, ldc)
		}
	}
	if s.tiny() {
		conv2dTinyBackward(s, x, wk, dy, dx, dwk)
		return
	}
	if s.pointwise() {
		if dwk != nil {
			weights(rows, x, dy, false)
		}
		if dx != nil {
			data(rows, dy, oc, dx, k, true)
		}
		return
	}
	per := s.OutH() * s.OutW()
	step := s.imagesPerChunk()
	chunkRows, ldc, ldy := s.convScratchParts()
	col := scratch[:chunkRows*ldc]
	for n0 := 0; n0 < s.N; n0 += step {
		n1 := min(n0+step, s.N)
		r0, r1 := n0*per, n1*per
		dyc := dy[r0*oc : r1*oc]
		if dwk != nil {
			if direct {
				im2colPanels(s, x, r0, r1, col)
				weights(r1-r0, col, dyc, true)
			} else {
				im2col(s, x, r0, r1, col, k)
				weights(r1-r0, col, dyc, false)
			}
		}
		if dx != nil {
			a, lda := dyc, oc
			if ldy != 0 { // dy rows would share too few L1 sets: read a padded copy
				a, lda = scratch[chunkRows*ldc:chunkRows*(ldc+ldy)], ldy
				parallel.For(r1-r0, 256, func(lo, hi int) {
					for r := lo; r < hi; r++ {
						copy(a[r*ldy:r*ldy+oc], dyc[r*oc:(r+1)*oc])
					}
				})
			}
			data(r1-r0, a, lda, col, ldc, false)
			col2im(s, col, ldc, n0, n1, dx)
		}
	}
}

func convF32(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// convBiasBlock is the row block of ConvBiasGrad's partial sums; fixed so
// the result does not depend on the number of workers.
const convBiasBlock = 512

// ConvBiasGrad accumulates db[oc] += Σ_rows dy[row][oc] for dy [rows, OC].
func ConvBiasGrad(dy []float32, rows, oc int, db []float32) {
	const op = "ConvBiasGrad"
	needLen(op, "dy", len(dy), rows*oc)
	needLen(op, "db", len(db), oc)
	nb := convCeil(rows, convBiasBlock)
	tmp := getConvTmp(nb * oc)
	defer convTmpPool.Put(tmp)
	part := *tmp
	parallel.For(nb, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			p := part[b*oc : (b+1)*oc]
			clear(p)
			for r := b * convBiasBlock; r < min((b+1)*convBiasBlock, rows); r++ {
				vecAcc(p, dy[r*oc:(r+1)*oc])
			}
		}
	})
	for b := 0; b < nb; b++ {
		vecAcc(db[:oc], part[b*oc:(b+1)*oc])
	}
}

func convBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

func convCeil(a, b int) int { return (a + b - 1) / b }
