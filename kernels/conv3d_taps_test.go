package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// conv3dRefBackward is the direct loop form of a 3-D convolution's
// gradients: dx [N,T,H,W,C] and dw [OC,C,KT,KH,KW] (both overwritten)
// for dy [N,OT,OH,OW,OC].
func conv3dRefBackward(s Conv3dShape, x, w, dy []float32) (dx, dw []float64) {
	dx = make([]float64, len(x))
	dw = make([]float64, len(w))
	ot, oh, ow := s.OutT(), s.OutH(), s.OutW()
	for n := 0; n < s.N; n++ {
		for t := 0; t < ot; t++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					g := dy[(((n*ot+t)*oh+i)*ow+j)*s.OC:][:s.OC]
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
								xi := (((n*s.T+it)*s.H+iy)*s.W + ix) * s.C
								for o, gv := range g {
									for c := 0; c < s.C; c++ {
										wi := (((o*s.C+c)*s.KT+dt)*s.KH+kh)*s.KW + kw
										dx[xi+c] += float64(gv) * float64(w[wi])
										dw[wi] += float64(gv) * float64(x[xi+c])
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return dx, dw
}

// TestConv3dPathsMatchLoops checks forward and both gradients of both 3-D
// paths (the default per shape, the tap sum forced on every shape) on
// both 2-D kernel paths (direct tiles, Sgemm) against the loop
// references, with im2col chunks small enough
// that a clip's frames span several chunks. The shapes cover temporal
// stride 2 with and without padding, asymmetric padding reach (PadT <
// KT−1), 1×1 spatial kernels (no im2col), a 1×1×1 stride-2 downsample,
// taps that only meet padding, and bias.
func TestConv3dPathsMatchLoops(t *testing.T) {
	defer func(chunk int) { ConvChunkBytes = chunk }(ConvChunkBytes)
	defer func(tp bool) { conv3dForceTaps = tp }(conv3dForceTaps)
	shapes := []Conv3dShape{
		{N: 2, T: 5, H: 9, W: 9, C: 16, OC: 40, KT: 3, KH: 3, KW: 3, StrideT: 1, Stride: 1, PadT: 1, Pad: 1},
		{N: 1, T: 6, H: 10, W: 10, C: 8, OC: 20, KT: 3, KH: 3, KW: 3, StrideT: 2, Stride: 2, PadT: 1, Pad: 1},
		{N: 2, T: 7, H: 6, W: 6, C: 5, OC: 8, KT: 3, KH: 3, KW: 3, StrideT: 2, Stride: 1, PadT: 0, Pad: 1},
		{N: 1, T: 6, H: 8, W: 7, C: 4, OC: 9, KT: 4, KH: 3, KW: 3, StrideT: 1, Stride: 2, PadT: 1, Pad: 0},
		{N: 2, T: 4, H: 12, W: 12, C: 3, OC: 8, KT: 3, KH: 7, KW: 7, StrideT: 1, Stride: 2, PadT: 1, Pad: 3},
		{N: 2, T: 5, H: 9, W: 9, C: 24, OC: 16, KT: 3, KH: 1, KW: 1, StrideT: 1, Stride: 1, PadT: 1, Pad: 0},
		{N: 2, T: 5, H: 4, W: 4, C: 20, OC: 8, KT: 3, KH: 1, KW: 1, StrideT: 2, Stride: 1, PadT: 1, Pad: 0},
		{N: 2, T: 4, H: 6, W: 6, C: 8, OC: 16, KT: 1, KH: 1, KW: 1, StrideT: 2, Stride: 2},
		{N: 2, T: 1, H: 4, W: 4, C: 16, OC: 8, KT: 3, KH: 3, KW: 3, StrideT: 1, Stride: 1, PadT: 1, Pad: 1},
		{N: 2, T: 2, H: 5, W: 5, C: 8, OC: 8, KT: 3, KH: 3, KW: 3, StrideT: 2, Stride: 2, PadT: 1, Pad: 1},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i, s := range shapes {
		x := randSlice(rng, s.N*s.T*s.H*s.W*s.C)
		w := randSlice(rng, s.OC*s.C*s.KT*s.KH*s.KW)
		b := randSlice(rng, s.OC)
		dy := randSlice(rng, s.Rows()*s.OC)
		want := make([]float32, s.Rows()*s.OC)
		Conv3dRef(s, x, w, b, want)
		wantDx, wantDw := conv3dRefBackward(s, x, w, dy)
		tol := 1e-4 * math.Sqrt(float64(s.C*s.KT*s.KH*s.KW))
		for _, path2 := range convPaths() {
			for _, path3 := range []string{"taps", "auto"} {
				t.Run(fmt.Sprintf("%d/%s/%s", i, path3, path2), func(t *testing.T) {
					defer setConvPath(path2)()
					conv3dForceTaps = path3 == "taps"
					ConvChunkBytes = 4 * s.H * s.W * 9 * s.C * 2 // two or three frames a chunk
					wk := make([]float32, Conv3dPackedLen(s))
					PackConv3dWeights(s, w, wk)
					y := make([]float32, len(want))
					Conv3dForward(s, x, wk, b, y, make([]float32, Conv3dScratchLen(s)))
					dx := randSlice(rng, len(x)) // accumulated into
					dx0 := append([]float32(nil), dx...)
					dwk := make([]float32, Conv3dWeightGradLen(s))
					Conv3dBackward(s, x, wk, dy, dx, dwk, make([]float32, Conv3dBackwardScratchLen(s)))
					dw := make([]float32, len(w))
					UnpackConv3dWeightsGrad(s, dwk, dw)
					worst := func(got []float32, base []float32, ref []float64) float64 {
						var m float64
						for j := range ref {
							g := float64(got[j])
							if base != nil {
								g -= float64(base[j])
							}
							m = math.Max(m, math.Abs(g-ref[j]))
						}
						return m
					}
					want64 := make([]float64, len(want))
					for j, v := range want {
						want64[j] = float64(v)
					}
					if e := worst(y, nil, want64); e > tol {
						t.Errorf("%+v: y max |diff| %.3g", s, e)
					}
					if e := worst(dx, dx0, wantDx); e > tol*math.Sqrt(float64(s.OC)) {
						t.Errorf("%+v: dx max |diff| %.3g", s, e)
					}
					if e := worst(dw, nil, wantDw); e > tol*math.Sqrt(float64(s.Rows())) {
						t.Errorf("%+v: dw max |diff| %.3g", s, e)
					}
				})
			}
		}
	}
}

// TestConv3dTapSumChoice pins the per-shape choice of path on r3d_18's
// shapes (see tapSum).
func TestConv3dTapSumChoice(t *testing.T) {
	want := map[string]bool{
		"stem": true, "layer1.conv": true, "layer2.0.conv1": true, "layer2.conv": true,
		"layer2.0.downsample": true, "layer3.0.conv1": true, "layer3.conv": true,
		"layer4.0.conv1": true, "layer4.conv": false,
		"r2plus1d.layer1.spatial": false, "r2plus1d.layer1.temporal": true,
	}
	for _, sh := range R3DConvShapes() {
		s := Conv3dShape{N: 2, T: sh.T, H: sh.H, W: sh.W, C: sh.C, OC: sh.OC, KT: sh.KT, KH: sh.K, KW: sh.K,
			StrideT: sh.ST, Stride: sh.S, PadT: sh.PT, Pad: sh.P}
		if got := s.tapSum(); got != want[sh.Name] {
			t.Errorf("%s: tapSum %v, want %v", sh.Name, got, want[sh.Name])
		}
	}
}
