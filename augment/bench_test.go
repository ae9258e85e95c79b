package augment

import (
	"fmt"
	"testing"
)

// BenchmarkViews measures one goroutine making a preset's views of one
// image (ns/op is per source image).
func BenchmarkViews(b *testing.B) {
	for _, tc := range []struct {
		preset     string
		size       int
		srcH, srcW int
	}{{"simclr", 32, 32, 32}, {"simclr", 224, 375, 500}, {"moco-v2", 224, 375, 500}, {"swav", 224, 375, 500}, {"pirl", 32, 32, 32}} {
		mv, err := Preset(tc.preset, tc.size, 3)
		if err != nil {
			b.Fatal(err)
		}
		src := NoiseImages(16, tc.srcH, tc.srcW, 3, 1)
		b.Run(fmt.Sprintf("%s/%d", tc.preset, tc.size), func(b *testing.B) {
			rng := newRNG(1)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				mv.Views(src[i%len(src)], rng)
			}
		})
	}
}

// BenchmarkOps times the deterministic ops on a 224×224 RGB image.
func BenchmarkOps(b *testing.B) {
	img := NoiseImages(1, 224, 224, 3, 2)[0]
	big := NoiseImages(1, 375, 500, 3, 3)[0]
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"resized_crop_bilinear", func() { ResizedCrop(big, 10, 20, 300, 400, Square(224), Bilinear, false) }},
		{"resized_crop_bilinear_aa", func() { ResizedCrop(big, 10, 20, 300, 400, Square(224), Bilinear, true) }},
		{"hflip", func() { HFlip(img) }},
		{"brightness", func() { AdjustBrightness(img, 1.2) }},
		{"contrast", func() { AdjustContrast(img, 1.2) }},
		{"saturation", func() { AdjustSaturation(img, 1.2) }},
		{"hue", func() { AdjustHue(img, 0.1) }},
		{"blur23_sigma1", func() { Blur(img, 23, 1) }},
		{"blur23_sigma2", func() { Blur(img, 23, 2) }},
		{"rotate_bilinear", func() { Rotate(img, 30, Bilinear, nil) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tc.f()
			}
		})
	}
}

func BenchmarkPermutationSet(b *testing.B) {
	for b.Loop() {
		permCache.Clear()
		PermutationSet(3, 100, 1)
	}
}
