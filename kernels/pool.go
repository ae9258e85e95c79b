package kernels

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// Pool2dShape describes a square-window 2-D pooling over NHWC activations
// with PyTorch's defaults (dilation 1, ceil_mode=False):
//
//	x [N, H, W, C] -> y [N, OH, OW, C], OH = (H + 2·Pad − K)/Stride + 1
type Pool2dShape struct {
	N, H, W, C     int
	K, Stride, Pad int
}

// OutH returns the output height.
func (s Pool2dShape) OutH() int { return (s.H+2*s.Pad-s.K)/s.Stride + 1 }

// OutW returns the output width.
func (s Pool2dShape) OutW() int { return (s.W+2*s.Pad-s.K)/s.Stride + 1 }

// Validate reports whether the shape is a pooling PyTorch accepts: a
// positive window no larger than the padded input and Pad ≤ K/2.
func (s Pool2dShape) Validate() error {
	switch {
	case s.N < 1 || s.H < 1 || s.W < 1 || s.C < 1 || s.K < 1:
		return fmt.Errorf("non-positive size in %+v", s)
	case s.Stride < 1:
		return fmt.Errorf("stride %d < 1", s.Stride)
	case s.Pad < 0 || 2*s.Pad > s.K:
		return fmt.Errorf("padding %d must be between 0 and half the kernel size %d", s.Pad, s.K)
	case s.H+2*s.Pad < s.K || s.W+2*s.Pad < s.K:
		return fmt.Errorf("window %d larger than padded input %dx%d", s.K, s.H+2*s.Pad, s.W+2*s.Pad)
	}
	return nil
}

func (s Pool2dShape) mustValidate(op string, lx, ly int) {
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("kernels.%s: %v", op, err))
	}
	needLen(op, "x", lx, s.N*s.H*s.W*s.C)
	needLen(op, "y", ly, s.N*s.OutH()*s.OutW()*s.C)
}

// window returns the valid input range [y0, y1) × [x0, x1) under output
// position (oy, ox); padding cells are left out.
func (s Pool2dShape) window(oy, ox int) (y0, y1, x0, x1 int) {
	y0, x0 = oy*s.Stride-s.Pad, ox*s.Stride-s.Pad
	y1, x1 = min(y0+s.K, s.H), min(x0+s.K, s.W)
	return max(y0, 0), y1, max(x0, 0), x1
}

// MaxPool2dForward computes y = max over each window (padding counts as
// −inf, as in PyTorch) and records in arg the window offset kh·K + kw of
// the maximum, the first one in row-major order on ties; a NaN wins.
//
//	x [N,H,W,C], y and arg [N,OH,OW,C] (overwritten)
func MaxPool2dForward(s Pool2dShape, x, y, arg []float32) {
	const op = "MaxPool2dForward"
	s.mustValidate(op, len(x), len(y))
	needLen(op, "arg", len(arg), len(y))
	oh, ow, c := s.OutH(), s.OutW(), s.C
	parallel.For(s.N*oh, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			n, oy := t/oh, t%oh
			img := x[n*s.H*s.W*c:]
			for ox := 0; ox < ow; ox++ {
				o := ((n*oh+oy)*ow + ox) * c
				yo, ao := y[o:o+c], arg[o:o+c]
				for i := range yo {
					yo[i] = float32(math.Inf(-1))
					ao[i] = 0
				}
				y0, y1, x0, x1 := s.window(oy, ox)
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						v := img[(iy*s.W+ix)*c : (iy*s.W+ix+1)*c]
						pos := float32((iy-oy*s.Stride+s.Pad)*s.K + ix - ox*s.Stride + s.Pad)
						for i, xv := range v {
							if xv > yo[i] || xv != xv {
								yo[i] = xv
								ao[i] = pos
							}
						}
					}
				}
			}
		}
	})
}

// MaxPool2dBackward routes each output gradient to its window's maximum:
//
//	dx[n][oy·S−P+kh][ox·S−P+kw][c] += dy[n][oy][ox][c], kh·K+kw = arg[n][oy][ox][c]
//
// dy and arg [N,OH,OW,C], dx [N,H,W,C]. Images are split over workers, so
// overlapping windows never race.
func MaxPool2dBackward(s Pool2dShape, dy, arg, dx []float32) {
	const op = "MaxPool2dBackward"
	s.mustValidate(op, len(dx), len(dy))
	needLen(op, "arg", len(arg), len(dy))
	oh, ow, c := s.OutH(), s.OutW(), s.C
	parallel.For(s.N, 1, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			img := dx[n*s.H*s.W*c:]
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					o := ((n*oh+oy)*ow + ox) * c
					by, bx := oy*s.Stride-s.Pad, ox*s.Stride-s.Pad
					for i, g := range dy[o : o+c] {
						p := int(arg[o+i])
						iy, ix := by+p/s.K, bx+p%s.K
						img[(iy*s.W+ix)*c+i] += g
					}
				}
			}
		}
	})
}

// AvgPool2dForward computes the mean over each K×K window, padding cells
// counted as zeros (PyTorch's count_include_pad=True):
//
//	y[n][oy][ox][c] = Σ_window x / K²      x [N,H,W,C], y [N,OH,OW,C]
func AvgPool2dForward(s Pool2dShape, x, y []float32) {
	const op = "AvgPool2dForward"
	s.mustValidate(op, len(x), len(y))
	oh, ow, c := s.OutH(), s.OutW(), s.C
	inv := 1 / float32(s.K*s.K)
	parallel.For(s.N*oh, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			n, oy := t/oh, t%oh
			img := x[n*s.H*s.W*c:]
			for ox := 0; ox < ow; ox++ {
				o := ((n*oh+oy)*ow + ox) * c
				yo := y[o : o+c]
				clear(yo)
				y0, y1, x0, x1 := s.window(oy, ox)
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						vecAcc(yo, img[(iy*s.W+ix)*c:])
					}
				}
				for i := range yo {
					yo[i] *= inv
				}
			}
		}
	})
}

// AvgPool2dBackward spreads each output gradient over its window:
//
//	dx[n][iy][ix][c] += dy[n][oy][ox][c] / K² for every window holding (iy, ix)
func AvgPool2dBackward(s Pool2dShape, dy, dx []float32) {
	const op = "AvgPool2dBackward"
	s.mustValidate(op, len(dx), len(dy))
	oh, ow, c := s.OutH(), s.OutW(), s.C
	inv := 1 / float32(s.K*s.K)
	parallel.For(s.N, 1, func(lo, hi int) {
		tmp := getConvTmp(c)
		defer convTmpPool.Put(tmp)
		g := *tmp
		for n := lo; n < hi; n++ {
			img := dx[n*s.H*s.W*c:]
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					o := ((n*oh+oy)*ow + ox) * c
					for i, v := range dy[o : o+c] {
						g[i] = v * inv
					}
					y0, y1, x0, x1 := s.window(oy, ox)
					for iy := y0; iy < y1; iy++ {
						for ix := x0; ix < x1; ix++ {
							vecAcc(img[(iy*s.W+ix)*c:(iy*s.W+ix+1)*c], g)
						}
					}
				}
			}
		}
	})
}

// GlobalAvgPoolForward computes the spatial mean of each image:
//
//	x [N, HW, C] -> y [N, C], y[n][c] = Σ_p x[n][p][c] / HW   (y overwritten)
func GlobalAvgPoolForward(x []float32, n, hw, c int, y []float32) {
	const op = "GlobalAvgPoolForward"
	needLen(op, "x", len(x), n*hw*c)
	needLen(op, "y", len(y), n*c)
	inv := 1 / float32(hw)
	parallel.For(n, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			yo := y[b*c : (b+1)*c]
			clear(yo)
			for p := 0; p < hw; p++ {
				vecAcc(yo, x[(b*hw+p)*c:])
			}
			for i := range yo {
				yo[i] *= inv
			}
		}
	})
}

// GlobalAvgPoolBackward spreads dy [N, C] evenly over dx [N, HW, C]:
//
//	dx[n][p][c] += dy[n][c] / HW
func GlobalAvgPoolBackward(dy []float32, n, hw, c int, dx []float32) {
	const op = "GlobalAvgPoolBackward"
	needLen(op, "dy", len(dy), n*c)
	needLen(op, "dx", len(dx), n*hw*c)
	inv := 1 / float32(hw)
	parallel.For(n, 1, func(lo, hi int) {
		tmp := getConvTmp(c)
		defer convTmpPool.Put(tmp)
		g := *tmp
		for b := lo; b < hi; b++ {
			for i, v := range dy[b*c : (b+1)*c] {
				g[i] = v * inv
			}
			for p := 0; p < hw; p++ {
				vecAcc(dx[(b*hw+p)*c:(b*hw+p+1)*c], g)
			}
		}
	})
}
