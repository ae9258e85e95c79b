package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConv3dMatchesRef compares Conv3dForward (tap sum over the 2-D
// kernels: direct tiles, or Sgemm under -tags noasm) with the seven-loop
// Conv3dRef over the shapes of r3d_18 and r2plus1d_18 at small sizes.
func TestConv3dMatchesRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []Conv3dShape{
		{N: 2, T: 4, H: 12, W: 12, C: 3, OC: 8, KT: 3, KH: 7, KW: 7, StrideT: 1, Stride: 2, PadT: 1, Pad: 3},
		{N: 2, T: 4, H: 9, W: 9, C: 16, OC: 16, KT: 3, KH: 3, KW: 3, StrideT: 1, Stride: 1, PadT: 1, Pad: 1},
		{N: 1, T: 5, H: 10, W: 10, C: 8, OC: 40, KT: 3, KH: 3, KW: 3, StrideT: 2, Stride: 2, PadT: 1, Pad: 1},
		{N: 2, T: 4, H: 8, W: 8, C: 8, OC: 20, KT: 1, KH: 3, KW: 3, StrideT: 1, Stride: 2, PadT: 0, Pad: 1},
		{N: 2, T: 4, H: 4, W: 4, C: 20, OC: 8, KT: 3, KH: 1, KW: 1, StrideT: 2, Stride: 1, PadT: 1, Pad: 0},
		{N: 2, T: 4, H: 6, W: 6, C: 8, OC: 16, KT: 1, KH: 1, KW: 1, StrideT: 2, Stride: 2},
		// taps that only meet padding are left out: one frame (the middle
		// tap alone, a plain 2-D convolution), two frames at stride 2 (taps 1 and 2)
		{N: 2, T: 1, H: 4, W: 4, C: 16, OC: 8, KT: 3, KH: 3, KW: 3, StrideT: 1, Stride: 1, PadT: 1, Pad: 1},
		{N: 2, T: 2, H: 5, W: 5, C: 8, OC: 8, KT: 3, KH: 3, KW: 3, StrideT: 2, Stride: 2, PadT: 1, Pad: 1},
	} {
		x := randSlice(rng, s.N*s.T*s.H*s.W*s.C)
		w := randSlice(rng, s.OC*s.C*s.KT*s.KH*s.KW)
		b := randSlice(rng, s.OC)
		want := make([]float32, s.Rows()*s.OC)
		Conv3dRef(s, x, w, b, want)
		wk := make([]float32, Conv3dPackedLen(s))
		PackConv3dWeights(s, w, wk)
		got := make([]float32, len(want))
		Conv3dForward(s, x, wk, b, got, make([]float32, Conv3dScratchLen(s)))
		var worst float64
		for i := range want {
			worst = math.Max(worst, math.Abs(float64(got[i]-want[i])))
		}
		if worst > 1e-4*math.Sqrt(float64(s.C*s.KT*s.KH*s.KW)) {
			t.Errorf("%+v: max |diff| %.3g from the reference", s, worst)
		}
	}
}
