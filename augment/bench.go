package augment

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// BenchResult is what Throughput measured.
type BenchResult struct {
	Images       int     // source images turned into views
	Views        int     // views per image
	Seconds      float64 // wall time
	ImagesPerSec float64 // Images / Seconds
	Workers      int     // goroutines (parallel.Workers)
}

// BenchBatch is the batch size of Throughput: views are made for a batch
// of images in parallel and then stacked into one NHWC tensor per view,
// as a data loader does.
const BenchBatch = 256

// Throughput measures how many source images per second mv turns into
// stacked views on all cores: it walks src in batches of BenchBatch
// (wrapping around), makes every image's views with its own generator
// seeded from (seed, image index) in parallel.For, stacks each view
// position into an (n, H, W, C) tensor, and stops after at least minTime
// and at least one batch.
func Throughput(mv *MultiView, src []*Image, minTime time.Duration, seed uint64) BenchResult {
	if len(src) == 0 {
		panic("augment.Throughput: no source images")
	}
	batch := make([]*Image, BenchBatch)
	views := make([][]*Image, BenchBatch)
	col := make([]*Image, BenchBatch)
	start := time.Now()
	done := 0
	for done == 0 || time.Since(start) < minTime {
		for i := range batch {
			batch[i] = src[(done+i)%len(src)]
		}
		base := done
		parallel.For(len(batch), 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				rng := rand.New(rand.NewPCG(seed, uint64(base+i)))
				views[i] = mv.Views(batch[i], rng)
			}
		})
		for v := range mv.Pipelines {
			for i := range batch {
				col[i] = views[i][v]
			}
			tensor.Put(Stack(col))
		}
		done += len(batch)
	}
	sec := time.Since(start).Seconds()
	return BenchResult{Images: done, Views: len(mv.Pipelines), Seconds: sec,
		ImagesPerSec: float64(done) / sec, Workers: parallel.Workers()}
}

// NoiseImages returns n h×w×c images of seeded uniform noise, the stand-in
// source for benchmarks without a dataset (the cost of every step is
// independent of the pixel values).
func NoiseImages(n, h, w, c int, seed uint64) []*Image {
	if n < 1 || h < 1 || w < 1 || (c != 1 && c != 3) {
		panic(fmt.Sprintf("augment.NoiseImages: bad geometry n=%d %dx%dx%d", n, h, w, c))
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	out := make([]*Image, n)
	for i := range out {
		out[i] = NewImage(h, w, c)
		for j := range out[i].Pix {
			out[i].Pix[j] = rng.Float32()
		}
	}
	return out
}
