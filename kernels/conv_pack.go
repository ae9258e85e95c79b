package kernels

import (
	"sync"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// Weight layouts. torchvision stores w [OC, C, KH, KW] (OIHW); the GEMM
// operands index the reduction axis k = t·C + c (t = kh·KW + kw, the order
// of im2col's NHWC rows). With T = KH·KW and K = T·C:
//
//	w[o·K + c·T + t]                           OIHW, the caller's weights
//	B(k, o) = fwd[(o/32)·K·32 + k·32 + o%32]   forward operand, 32-column panels over o
//	B(o, k) = dat[(k/32)·OC·32 + o·32 + k%32]  input-gradient operand, 32-column panels over k
//	HWIO [K, OC]                               the im2col + Sgemm path's operand and weight gradient
//	OHWI [OC, K]                               the direct path's weight gradient
//
// Panels make every B row a contiguous 128-byte line, so a kc×32 slice of
// B is one compact block however large OC or K is.

// convDirect selects the direct path: im2col chunks (or x itself) feed the
// 14×32 register tiles of convGemm in place, with only the weights packed.
// It needs the AVX-512 tile; otherwise every convolution runs as im2col +
// Sgemm. Tests switch it between complete calls only: the packed weight
// layout depends on it.
var convDirect = useConvAVX512

// convDirectAll makes every shape take the direct path when convDirect is
// set (tests, to cover the tiles on every shape).
var convDirectAll = false

// convSmallMap is the output map size (OH·OW) up to which a convolution
// with a spatial kernel runs as im2col + Sgemm even when the direct path
// is available. Measured on ResNet-18's CIFAR shapes (batch 64, one
// thread): with 8×8 and 4×4 maps K = 9·C is large (2304, 4608), the
// weights no longer fit in cache, and Sgemm's packed blocks beat the
// direct tiles by 6–19% (layer3.0.conv1 38.9 → 36.5 ms, layer3.conv 85 →
// 75, layer4.0.conv1 46.9 → 38.7, layer4.conv 98 → 80); at 16×16 the two
// are equal and above it the direct tiles win.
const convSmallMap = 64

// direct reports whether s runs on the direct path.
func (s Conv2dShape) direct() bool {
	if !convDirect {
		return false
	}
	return convDirectAll || s.KH*s.KW == 1 || s.OutH()*s.OutW() > convSmallMap
}

// ConvPackedLen returns the length of the packed weights PackConvWeights
// writes for s.
func ConvPackedLen(s Conv2dShape) int {
	if s.direct() {
		return convRound(s.OC, convNR)*s.K() + convRound(s.K(), convNR)*s.OC
	}
	return s.OC * s.K()
}

// PackConvWeights repacks torchvision weights w [OC, C, KH, KW] into wk
// (ConvPackedLen(s) values), the operands the convolution kernels read:
// the forward and input-gradient panels on the direct path, HWIO [K, OC]
// for im2col + Sgemm. See the layout table at the top of conv_pack.go.
//
// It works on blocks of 32 output channels: their rows are transposed to
// OHWI in a scratch block (each row [C, T] to [T, C], in L1), which is
// then copied out in 32-float runs (input-gradient panels) and transposed
// 32 rows at a time (forward panels, HWIO), so every write is sequential
// and every element of w is read once.
func PackConvWeights(s Conv2dShape, w, wk []float32) {
	const op = "PackConvWeights"
	s.mustValidate(op)
	needLen(op, "w", len(w), s.OC*s.K())
	needLen(op, "wk", len(wk), ConvPackedLen(s))
	oc, k := s.OC, s.K()
	nf := convRound(oc, convNR) * k
	direct := s.direct()
	parallel.For(convCeil(oc, convNR), 1, func(lo, hi int) {
		tmp := getConvTmp(convNR * k)
		defer convTmpPool.Put(tmp)
		for q := lo; q < hi; q++ {
			o0, o1 := q*convNR, min((q+1)*convNR, oc)
			blk := (*tmp)[:(o1-o0)*k]
			for o := o0; o < o1; o++ {
				toOHWI(s, w[o*k:(o+1)*k], blk[(o-o0)*k:(o-o0+1)*k])
			}
			if !direct { // HWIO: B(kk, o) at kk·OC + o
				transposeRows(blk, o1-o0, k, wk[o0:], oc)
				continue
			}
			transposeRows(blk, o1-o0, k, wk[q*k*convNR:], convNR)
			dat := wk[nf:]
			for o := o0; o < o1; o++ {
				row := blk[(o-o0)*k : (o-o0+1)*k]
				for p := 0; p*convNR < k; p++ {
					copy(dat[(p*oc+o)*convNR:], row[p*convNR:min((p+1)*convNR, k)])
				}
			}
		}
	})
}

// toOHWI writes one output channel's weights in (t, c) order:
// dst[t·C + c] = src[c·T + t].
func toOHWI(s Conv2dShape, src, dst []float32) {
	c, t := s.C, s.KH*s.KW
	if t == 1 {
		copy(dst, src)
		return
	}
	src, dst = src[:c*t], dst[:c*t]
	ci := 0
	if useConvAVX512 && c >= 16 {
		for p := 0; p < t; p++ { // dst[p·C + ci] = src[ci·T + p], 16 channels per gather
			gatherAVX512(&dst[p*c], &src[p], c/16, 16, 16*t, t)
		}
		ci = c &^ 15
	}
	for ; ci < c; ci++ {
		for p, v := range src[ci*t : ci*t+t] {
			dst[p*c+ci] = v
		}
	}
}

// transposeRows writes dst[kk·ld + j] = blk[j·k + kk] for j < rows ≤ 32,
// kk < k: the 32-row block becomes k rows of (up to) 32 columns.
func transposeRows(blk []float32, rows, k int, dst []float32, ld int) {
	j0 := 0
	if useConvAVX512 {
		for ; j0+16 <= rows; j0 += 16 { // 16 rows per gather, one gather per column
			gatherAVX512(&dst[j0], &blk[j0*k], k, ld, 1, k)
		}
	}
	const tb = 16 // columns of blk per pass: rows × 16 values stay in L1
	for k0 := 0; k0 < k; k0 += tb {
		k1 := min(k0+tb, k)
		for j := j0; j < rows; j++ {
			src := blk[j*k+k0 : j*k+k1]
			for kk, v := range src {
				dst[(k0+kk)*ld+j] = v
			}
		}
	}
}

var convTmpPool = sync.Pool{New: func() any { return new([]float32) }}

// getConvTmp returns a pooled scratch slice of at least n values.
func getConvTmp(n int) *[]float32 {
	p := convTmpPool.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

// ConvWeightGradLen returns the length of the packed weight gradient
// Conv2dBackward accumulates for s (OC·K).
func ConvWeightGradLen(s Conv2dShape) int { return s.OC * s.K() }

// UnpackConvWeightsGrad accumulates a packed weight gradient dwk (from
// Conv2dBackward) into dw [OC, C, KH, KW]. dwk is OHWI [OC, K] on the
// direct path and HWIO [K, OC] otherwise:
//
//	dw[o][c][kh][kw] += dwk[o·K + t·C + c]       (direct)
//	dw[o][c][kh][kw] += dwk[(t·C + c)·OC + o]    (im2col + Sgemm)
func UnpackConvWeightsGrad(s Conv2dShape, dwk, dw []float32) {
	const op = "UnpackConvWeightsGrad"
	s.mustValidate(op)
	needLen(op, "dwk", len(dwk), s.OC*s.K())
	needLen(op, "dw", len(dw), s.OC*s.K())
	oc, c, t, k := s.OC, s.C, s.KH*s.KW, s.K()
	if !s.direct() {
		const ob, cb = 32, 16
		parallel.For(convCeil(oc, ob), 1, func(lo, hi int) {
			for o0 := lo * ob; o0 < min(hi*ob, oc); o0 += ob {
				for c0 := 0; c0 < c; c0 += cb {
					c1 := min(c0+cb, c)
					for o := o0; o < min(o0+ob, oc); o++ {
						d := dw[o*k+c0*t : o*k+c1*t]
						for ci := c0; ci < c1; ci++ {
							row := d[(ci-c0)*t : (ci-c0+1)*t]
							for p := range row {
								row[p] += dwk[(p*c+ci)*oc+o]
							}
						}
					}
				}
			}
		})
		return
	}
	parallel.For(oc, 8, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			src, d := dwk[o*k:(o+1)*k], dw[o*k:(o+1)*k]
			if t == 1 {
				vecAcc(d, src)
				continue
			}
			for p := 0; p < t; p++ {
				dp := d[p:]
				for ci, v := range src[p*c : (p+1)*c] {
					dp[ci*t] += v
				}
			}
		}
	})
}

func convRound(a, b int) int { return convCeil(a, b) * b }
