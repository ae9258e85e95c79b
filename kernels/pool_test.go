package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxPoolArgTiesAndNaN compares MaxPool2dForward and MaxPool2dInfer
// with the running-maximum loop on inputs full of ties (small integers)
// and a few NaNs: the maximum, and as its argument the first window
// position holding it in row-major order (a NaN wins; of several NaNs,
// the last).
func TestMaxPoolArgTiesAndNaN(t *testing.T) {
	s := Pool2dShape{N: 2, H: 7, W: 6, C: 19, K: 3, Stride: 2, Pad: 1}
	rng := rand.New(rand.NewPCG(4, 4))
	x := make([]float32, s.N*s.H*s.W*s.C)
	for i := range x {
		x[i] = float32(rng.IntN(3))
	}
	for i := 0; i < 5; i++ {
		x[rng.IntN(len(x))] = float32(math.NaN())
	}
	oh, ow := s.OutH(), s.OutW()
	n := s.N * oh * ow * s.C
	y, arg, yi := make([]float32, n), make([]float32, n), make([]float32, n)
	MaxPool2dForward(s, x, y, arg)
	MaxPool2dInfer(s, x, yi)
	same := func(a, b float32) bool { return a == b || a != a && b != b }
	for b := 0; b < s.N; b++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for c := 0; c < s.C; c++ {
					best, pos := float32(math.Inf(-1)), float32(-1)
					for kh := 0; kh < s.K; kh++ {
						for kw := 0; kw < s.K; kw++ {
							iy, ix := oy*s.Stride-s.Pad+kh, ox*s.Stride-s.Pad+kw
							if iy < 0 || iy >= s.H || ix < 0 || ix >= s.W {
								continue
							}
							v := x[((b*s.H+iy)*s.W+ix)*s.C+c]
							if v > best || v != v {
								best, pos = v, float32(kh*s.K+kw)
							}
						}
					}
					o := ((b*oh+oy)*ow+ox)*s.C + c
					if !same(y[o], best) || arg[o] != pos || !same(yi[o], best) {
						t.Fatalf("output %d: max %v arg %v (infer %v), want %v at %v", o, y[o], arg[o], yi[o], best, pos)
					}
				}
			}
		}
	}
}
