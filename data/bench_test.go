package data

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// BenchmarkOpenCIFAR10PNG times opening the shared CIFAR-10 training
// archive (gunzip, tar scan, parallel PNG decode).
func BenchmarkOpenCIFAR10PNG(b *testing.B) {
	if _, err := os.Stat(cifar10PNG); err != nil {
		b.Skipf("shared dataset %s is absent: %v", cifar10PNG, err)
	}
	for b.Loop() {
		ds, err := Open(cifar10PNG, OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(ds.Len()), "images/op")
	}
}

// BenchmarkLoader measures the loader's own overhead: two copies of each
// 32×32×3 image as views, batches of 256.
func BenchmarkLoader(b *testing.B) {
	ds := Synthetic(4096, 32, 32, 3, 10, 1)
	copies := func(img *augment.Image, _ *rand.Rand) []*augment.Image {
		v := augment.NewImage(img.H, img.W, img.C)
		copy(v.Pix, img.Pix)
		return []*augment.Image{img, v}
	}
	l, err := NewLoader(ds, LoaderConfig{BatchSize: 256, Shuffle: true}, copies)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	for b.Loop() {
		bt, err := l.Next()
		if err != nil {
			b.Fatal(err)
		}
		for _, v := range bt.Views {
			tensor.Put(v)
		}
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "images/s")
}
