package kernels

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// Conv3dShape describes a 3-D convolution over NTHWC activations with a
// square spatial kernel (PyTorch's nn.Conv3d with groups=1, dilation=1,
// kernel (KT, KH, KH), stride (StrideT, Stride, Stride), padding (PadT,
// Pad, Pad)):
//
//	x  [N, T, H, W, C]       input activations (channels last)
//	w  [OC, C, KT, KH, KW]   weights as torchvision stores them (OITHW)
//	wk                       the weights repacked by PackConv3dWeights
//	y  [N, OT, OH, OW, OC]   output, OT = (T + 2·PadT − KT)/StrideT + 1
//
// It runs as a sum over the temporal taps of 2-D convolutions of the
// input frames, each frame unfolded (im2col) once and each tap one GEMM
// against its own weights (conv3d_taps.go). A shape with a single used
// tap that reads output frame ot from input frame ot (KT = 1 at temporal
// stride 1, the spatial half of R(2+1)D; the middle tap of a one-frame
// clip) is simply a 2-D convolution over the N·T frames. Taps that meet
// only zero padding for every output frame (all but the middle one on a
// one-frame clip, as in layer4 of an 8-frame r3d_18) are left out, so
// their zeros cost nothing.
type Conv3dShape struct {
	N, T, H, W, C   int
	OC, KT, KH, KW  int
	StrideT, Stride int
	PadT, Pad       int
}

// OutT returns the output length in time.
func (s Conv3dShape) OutT() int { return (s.T+2*s.PadT-s.KT)/s.StrideT + 1 }

// OutH returns the output height.
func (s Conv3dShape) OutH() int { return s.plane().OutH() }

// OutW returns the output width.
func (s Conv3dShape) OutW() int { return s.plane().OutW() }

// Rows returns N·OT·OH·OW, the number of output positions.
func (s Conv3dShape) Rows() int { return s.N * s.OutT() * s.OutH() * s.OutW() }

// FLOPs returns the nominal floating-point operations of the forward pass
// (2·N·OT·OH·OW·OC·KT·KH·KW·C), padding taps included.
func (s Conv3dShape) FLOPs() float64 {
	return 2 * float64(s.Rows()) * float64(s.OC) * float64(s.KT*s.KH*s.KW*s.C)
}

// taps returns the temporal kernel taps [d0, d1) that read the clip for at
// least one output frame; the others only ever meet zero padding (a
// 3-tap kernel on a one-frame clip uses its middle tap alone), so the
// kernels leave them out.
func (s Conv3dShape) taps() (d0, d1 int) {
	d0, d1 = s.KT, 0
	for o := 0; o < s.OutT(); o++ {
		t0 := o*s.StrideT - s.PadT
		d0 = min(d0, max(0, -t0))
		d1 = max(d1, min(s.KT, s.T-t0))
	}
	return d0, d1
}

// Validate reports whether the shape describes a supported convolution
// with a non-empty output.
func (s Conv3dShape) Validate() error {
	switch {
	case s.N < 1 || s.T < 1 || s.H < 1 || s.W < 1 || s.C < 1 || s.OC < 1 || s.KT < 1 || s.KH < 1 || s.KW < 1:
		return fmt.Errorf("non-positive size in %+v", s)
	case s.KH != s.KW:
		return fmt.Errorf("spatial kernel %dx%d is not square", s.KH, s.KW)
	case s.StrideT < 1 || s.Stride < 1:
		return fmt.Errorf("stride (%d, %d) < 1", s.StrideT, s.Stride)
	case s.PadT < 0 || s.Pad < 0:
		return fmt.Errorf("negative padding (%d, %d)", s.PadT, s.Pad)
	case s.T+2*s.PadT < s.KT:
		return fmt.Errorf("temporal kernel %d longer than the padded clip %d", s.KT, s.T+2*s.PadT)
	}
	return s.plane().Validate()
}

// plane returns the 2-D convolution of a shape that is not a tap sum
// (see multiTap): its single used tap over the N·T frames. Its spatial
// sizes are every shape's.
func (s Conv3dShape) plane() Conv2dShape {
	d0, d1 := s.taps()
	return Conv2dShape{N: s.N * s.OutT(), H: s.H, W: s.W, C: (d1 - d0) * s.C, OC: s.OC, KH: s.KH, KW: s.KW, Stride: s.Stride, Pad: s.Pad}
}

// multiTap reports whether s is more than one 2-D convolution over the
// frames: not when its single used tap reads output frame ot from input
// frame ot.
func (s Conv3dShape) multiTap() bool {
	d0, d1 := s.taps()
	return !(d1-d0 == 1 && s.StrideT == 1 && d0 == s.PadT && s.OutT() == s.T)
}

func (s Conv3dShape) mustValidate(op string) {
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("kernels.%s: %v", op, err))
	}
}

// Conv3dPackedLen returns the length of the packed weights
// PackConv3dWeights writes for s.
func Conv3dPackedLen(s Conv3dShape) int {
	if s.tapSum() {
		return s.tapPackedLen()
	}
	return ConvPackedLen(s.plane())
}

// Conv3dWeightGradLen returns the length of the packed weight gradient
// Conv3dBackward accumulates.
func Conv3dWeightGradLen(s Conv3dShape) int {
	if s.tapSum() {
		return s.tapWeightGradLen()
	}
	return ConvWeightGradLen(s.plane())
}

// Conv3dScratchLen returns the scratch length Conv3dForward needs;
// Conv3dBackward needs Conv3dBackwardScratchLen.
func Conv3dScratchLen(s Conv3dShape) int {
	if s.tapSum() {
		return s.tapScratchLen()
	}
	return ConvScratchLen(s.plane())
}

// Conv3dBackwardScratchLen returns the scratch length of Conv3dBackward.
func Conv3dBackwardScratchLen(s Conv3dShape) int {
	if s.tapSum() {
		return s.tapScratchLen()
	}
	return ConvScratchLen(s.plane())
}

// PackConv3dWeights repacks torchvision weights w [OC, C, KT, KH, KW] into
// wk (Conv3dPackedLen(s) values) for Conv3dForward and Conv3dBackward.
func PackConv3dWeights(s Conv3dShape, w, wk []float32) {
	const op = "PackConv3dWeights"
	s.mustValidate(op)
	kk := s.KH * s.KW
	needLen(op, "w", len(w), s.OC*s.C*s.KT*kk)
	needLen(op, "wk", len(wk), Conv3dPackedLen(s))
	if s.tapSum() {
		packConv3dTaps(s, w, wk)
		return
	}
	d0, d1 := s.taps()
	kt := d1 - d0
	tmp := getConvTmp(s.OC * s.C * kt * kk)
	defer convTmpPool.Put(tmp)
	w2 := *tmp
	for o := 0; o < s.OC; o++ {
		for c := 0; c < s.C; c++ {
			for j := 0; j < kt; j++ {
				src := w[((o*s.C+c)*s.KT+d0+j)*kk:][:kk]
				copy(w2[(o*kt*s.C+j*s.C+c)*kk:][:kk], src)
			}
		}
	}
	PackConvWeights(s.plane(), w2, wk)
}

// UnpackConv3dWeightsGrad accumulates a packed weight gradient dwk (from
// Conv3dBackward) into dw [OC, C, KT, KH, KW].
func UnpackConv3dWeightsGrad(s Conv3dShape, dwk, dw []float32) {
	const op = "UnpackConv3dWeightsGrad"
	s.mustValidate(op)
	kk := s.KH * s.KW
	needLen(op, "dw", len(dw), s.OC*s.C*s.KT*kk)
	needLen(op, "dwk", len(dwk), Conv3dWeightGradLen(s))
	if s.tapSum() {
		unpackConv3dTapsGrad(s, dwk, dw)
		return
	}
	d0, d1 := s.taps()
	kt := d1 - d0
	tmp := getConvTmp(s.OC * s.C * kt * kk)
	defer convTmpPool.Put(tmp)
	dw2 := *tmp
	clear(dw2)
	UnpackConvWeightsGrad(s.plane(), dwk, dw2)
	for o := 0; o < s.OC; o++ {
		for c := 0; c < s.C; c++ {
			for j := 0; j < kt; j++ {
				vecAcc(dw[((o*s.C+c)*s.KT+d0+j)*kk:][:kk], dw2[(o*kt*s.C+j*s.C+c)*kk:][:kk])
			}
		}
	}
}

// Conv3dForward computes y = conv3d(x, w) + bias.
//
//	x [N,T,H,W,C], wk = PackConv3dWeights(w), bias [OC] or nil,
//	y [N,OT,OH,OW,OC] (overwritten), scratch ≥ Conv3dScratchLen(s)
func Conv3dForward(s Conv3dShape, x, wk, bias, y, scratch []float32) {
	const op = "Conv3dForward"
	s.mustValidate(op)
	needLen(op, "x", len(x), s.N*s.T*s.H*s.W*s.C)
	needLen(op, "scratch", len(scratch), Conv3dScratchLen(s))
	if s.tapSum() {
		needLen(op, "wk", len(wk), Conv3dPackedLen(s))
		needLen(op, "y", len(y), s.Rows()*s.OC)
		if bias != nil {
			needLen(op, "bias", len(bias), s.OC)
		}
		conv3dTapsForward(s, x, wk, y, scratch)
		if bias != nil {
			parallel.For(s.Rows(), 256, func(lo, hi int) {
				for r := lo; r < hi; r++ {
					vecAcc(y[r*s.OC:(r+1)*s.OC], bias[:s.OC])
				}
			})
		}
		return
	}
	Conv2dForward(s.plane(), x, wk, bias, y, scratch)
}

// Conv3dBackward accumulates the gradients of a 3-D convolution given dy
// [N,OT,OH,OW,OC]:
//
//	dx  [N,T,H,W,C]  += conv_transpose3d(dy, w)   (skipped when dx is nil)
//	dwk              += the packed weight gradient (skipped when dwk is nil;
//	                    UnpackConv3dWeightsGrad adds it into OITHW)
//
// scratch ≥ Conv3dBackwardScratchLen(s). The bias gradient is
// ConvBiasGrad(dy, s.Rows(), s.OC, db).
func Conv3dBackward(s Conv3dShape, x, wk, dy, dx, dwk, scratch []float32) {
	const op = "Conv3dBackward"
	s.mustValidate(op)
	needLen(op, "x", len(x), s.N*s.T*s.H*s.W*s.C)
	needLen(op, "scratch", len(scratch), Conv3dBackwardScratchLen(s))
	if dx != nil {
		needLen(op, "dx", len(dx), s.N*s.T*s.H*s.W*s.C)
	}
	if s.tapSum() {
		needLen(op, "wk", len(wk), Conv3dPackedLen(s))
		needLen(op, "dy", len(dy), s.Rows()*s.OC)
		if dwk != nil {
			needLen(op, "dwk", len(dwk), Conv3dWeightGradLen(s))
		}
		conv3dTapsBackward(s, x, wk, dy, dx, dwk, scratch)
		return
	}
	Conv2dBackward(s.plane(), x, wk, dy, dx, dwk, scratch)
}

// Conv3dRef is the direct 7-loop convolution, the reference the tests
// compare Conv3dForward against: x [N,T,H,W,C], w [OC,C,KT,KH,KW],
// bias [OC] or nil, y [N,OT,OH,OW,OC] overwritten.
func Conv3dRef(s Conv3dShape, x, w, bias, y []float32) {
	ot, oh, ow := s.OutT(), s.OutH(), s.OutW()
	for n := 0; n < s.N; n++ {
		for t := 0; t < ot; t++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					out := y[(((n*ot+t)*oh+i)*ow+j)*s.OC:][:s.OC]
					for o := range out {
						var acc float64
						if bias != nil {
							acc = float64(bias[o])
						}
						for dt := 0; dt < s.KT; dt++ {
							it := t*s.StrideT - s.PadT + dt
							if it < 0 || it >= s.T {
								continue
							}
							for kh := 0; kh < s.KH; kh++ {
								iy := i*s.Stride - s.Pad + kh
								if iy < 0 || iy >= s.H {
									continue
								}
								for kw := 0; kw < s.KW; kw++ {
									ix := j*s.Stride - s.Pad + kw
									if ix < 0 || ix >= s.W {
										continue
									}
									xp := x[(((n*s.T+it)*s.H+iy)*s.W+ix)*s.C:]
									for c := 0; c < s.C; c++ {
										acc += float64(xp[c]) * float64(w[(((o*s.C+c)*s.KT+dt)*s.KH+kh)*s.KW+kw])
									}
								}
							}
						}
						out[o] = float32(acc)
					}
				}
			}
		}
	}
}
