package kernels

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// Pool3dShape describes a 3-D pooling over NTHWC activations with a
// (KT, K, K) window, strides (StrideT, Stride, Stride) and padding (PadT,
// Pad, Pad), PyTorch's defaults otherwise (dilation 1, ceil_mode=False):
//
//	x [N, T, H, W, C] -> y [N, OT, OH, OW, C]
type Pool3dShape struct {
	N, T, H, W, C   int
	KT, K           int
	StrideT, Stride int
	PadT, Pad       int
}

// OutT returns the output length in time.
func (s Pool3dShape) OutT() int { return (s.T+2*s.PadT-s.KT)/s.StrideT + 1 }

// OutH returns the output height.
func (s Pool3dShape) OutH() int { return (s.H+2*s.Pad-s.K)/s.Stride + 1 }

// OutW returns the output width.
func (s Pool3dShape) OutW() int { return (s.W+2*s.Pad-s.K)/s.Stride + 1 }

// Validate reports whether PyTorch accepts the pooling: positive windows
// no larger than the padded input, padding at most half the window.
func (s Pool3dShape) Validate() error {
	switch {
	case s.N < 1 || s.T < 1 || s.H < 1 || s.W < 1 || s.C < 1 || s.KT < 1 || s.K < 1:
		return fmt.Errorf("non-positive size in %+v", s)
	case s.StrideT < 1 || s.Stride < 1:
		return fmt.Errorf("stride (%d, %d) < 1", s.StrideT, s.Stride)
	case s.PadT < 0 || s.Pad < 0 || 2*s.PadT > s.KT || 2*s.Pad > s.K:
		return fmt.Errorf("padding (%d, %d) must be between 0 and half the window (%d, %d)", s.PadT, s.Pad, s.KT, s.K)
	case s.T+2*s.PadT < s.KT || s.H+2*s.Pad < s.K || s.W+2*s.Pad < s.K:
		return fmt.Errorf("window (%d, %d, %d) larger than the padded input", s.KT, s.K, s.K)
	}
	return nil
}

func (s Pool3dShape) mustValidate(op string, lx, ly int) {
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("kernels.%s: %v", op, err))
	}
	needLen(op, "x", lx, s.N*s.T*s.H*s.W*s.C)
	needLen(op, "y", ly, s.N*s.OutT()*s.OutH()*s.OutW()*s.C)
}

// MaxPool3dForward computes y = the maximum of each window (padding counts
// as −inf) and records in arg the window offset (dt·K + kh)·K + kw of the
// first maximum in (t, h, w) order; a NaN wins, as in PyTorch.
func MaxPool3dForward(s Pool3dShape, x, y, arg []float32) {
	const op = "MaxPool3dForward"
	s.mustValidate(op, len(x), len(y))
	needLen(op, "arg", len(arg), len(y[:s.N*s.OutT()*s.OutH()*s.OutW()*s.C]))
	ot, oh, ow, c := s.OutT(), s.OutH(), s.OutW(), s.C
	parallel.For(s.N*ot*oh, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, q := r/(ot*oh), r%(ot*oh)
			t0, y0 := (q/oh)*s.StrideT-s.PadT, (q%oh)*s.Stride-s.Pad
			for j := 0; j < ow; j++ {
				x0 := j*s.Stride - s.Pad
				out := y[((r*ow)+j)*c:][:c]
				am := arg[((r*ow)+j)*c:][:c]
				for i := range out {
					out[i] = float32(math.Inf(-1))
					am[i] = -1
				}
				for dt := 0; dt < s.KT; dt++ {
					it := t0 + dt
					if it < 0 || it >= s.T {
						continue
					}
					for kh := 0; kh < s.K; kh++ {
						iy := y0 + kh
						if iy < 0 || iy >= s.H {
							continue
						}
						for kw := 0; kw < s.K; kw++ {
							ix := x0 + kw
							if ix < 0 || ix >= s.W {
								continue
							}
							off := float32((dt*s.K+kh)*s.K + kw)
							src := x[(((n*s.T+it)*s.H+iy)*s.W+ix)*c:][:c]
							for i, v := range src {
								if am[i] < 0 || v > out[i] || (v != v && out[i] == out[i]) {
									out[i], am[i] = v, off
								}
							}
						}
					}
				}
			}
		}
	})
}

// MaxPool3dBackward adds dy into dx at the positions arg recorded. Workers
// own whole clips, so overlapping windows never race.
func MaxPool3dBackward(s Pool3dShape, dy, arg, dx []float32) {
	const op = "MaxPool3dBackward"
	s.mustValidate(op, len(dx), len(dy))
	ot, oh, ow, c := s.OutT(), s.OutH(), s.OutW(), s.C
	parallel.For(s.N, 1, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			for q := 0; q < ot*oh*ow; q++ {
				t0 := (q/(oh*ow))*s.StrideT - s.PadT
				y0 := (q/ow%oh)*s.Stride - s.Pad
				x0 := (q%ow)*s.Stride - s.Pad
				base := (n*ot*oh*ow + q) * c
				for i := 0; i < c; i++ {
					a := int(arg[base+i])
					if a < 0 {
						continue
					}
					it, iy, ix := t0+a/(s.K*s.K), y0+a/s.K%s.K, x0+a%s.K
					dx[(((n*s.T+it)*s.H+iy)*s.W+ix)*c+i] += dy[base+i]
				}
			}
		}
	})
}
