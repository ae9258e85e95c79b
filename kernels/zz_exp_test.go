package kernels

import (
	"testing"
)

func BenchmarkZZPasses(b *testing.B) {
	for _, sh := range ResNet18CIFARConvShapes() {
		if sh.Name != "layer4.conv" && sh.Name != "layer1.conv" && sh.Name != "layer3.conv" {
			continue
		}
		s := Conv2dShape{N: 16, H: sh.H, W: sh.W, C: sh.C, OC: sh.OC, KH: sh.K, KW: sh.K, Stride: sh.Stride, Pad: sh.Pad}
		x := make([]float32, s.N*s.H*s.W*s.C)
		w := make([]float32, s.OC*s.K())
		wk := make([]float32, ConvPackedLen(s))
		dy := make([]float32, s.Rows()*s.OC)
		y := make([]float32, len(dy))
		dx := make([]float32, len(x))
		dwk := make([]float32, ConvWeightGradLen(s))
		scratch := make([]float32, ConvScratchLen(s))
		f := s.FLOPs()
		run := func(name string, flops float64, fn func()) {
			b.Run(sh.Name+"/"+name, func(b *testing.B) {
				for b.Loop() {
					fn()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		run("pack", 0, func() { PackConvWeights(s, w, wk) })
		run("unpack", 0, func() { UnpackConvWeightsGrad(s, dwk, w) })
		run("fwd", f, func() { Conv2dForward(s, x, wk, nil, y, scratch) })
		run("data", f, func() { Conv2dBackward(s, x, wk, dy, dx, nil, scratch) })
		run("weights", f, func() { Conv2dBackward(s, x, wk, dy, nil, dwk, scratch) })
	}
}

