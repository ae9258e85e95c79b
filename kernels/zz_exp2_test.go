package kernels

import "testing"

func BenchmarkZZPack(b *testing.B) {
	s := Conv2dShape{N: 64, H: 4, W: 4, C: 512, OC: 512, KH: 3, KW: 3, Stride: 1, Pad: 1}
	w := make([]float32, s.OC*s.K())
	wk := make([]float32, s.OC*s.K())
	b.Run("pack", func(b *testing.B) {
		for b.Loop() {
			PackConvWeights(s, w, wk)
		}
	})
	b.Run("unpack", func(b *testing.B) {
		for b.Loop() {
			UnpackConvWeightsGrad(s, wk, w)
		}
	})
}
