package data

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// photoDir writes n JPEGs of different sizes (40 to 71 pixels a side) in
// two class folders and returns the folder and the bytes their decoded
// pixels take.
func photoDir(t *testing.T, n int) (string, int64) {
	t.Helper()
	dir := t.TempDir()
	var pixels int64
	for i := range n {
		w, h := 40+(i*7)%32, 40+(i*13)%32
		pixels += int64(w * h * 3)
		writeFile(t, dir, fmt.Sprintf("c%d/%05d.jpg", i%2, i), encode(t, rgbImage(w, h, i), ".jpg"))
	}
	return dir, pixels
}

// cropViews cuts two seeded 16×16 crops: views of one size from images
// of any size.
func cropViews(img *augment.Image, rng *rand.Rand) []*augment.Image {
	out := make([]*augment.Image, 2)
	for v := range out {
		y, x := rng.IntN(img.H-15), rng.IntN(img.W-15)
		out[v] = augment.Crop(img, y, x, 16, 16)
	}
	return out
}

// streamedHeap opens dir over a 64 KiB budget (so it is streamed), runs
// the loader over one epoch and returns the largest live heap seen after
// a batch, less the heap before Open.
func streamedHeap(t *testing.T, dir string) (peak uint64, batches int) {
	t.Helper()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	ds, err := Open(dir, OpenOptions{MaxMemory: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if ds.(*set).stream == nil {
		t.Fatal("over the memory budget but not streamed")
	}
	l, err := NewLoader(ds, LoaderConfig{BatchSize: 20, Seed: 3, Shuffle: true, Workers: 1, Prefetch: 1, Epochs: 1}, cropViews)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for {
		b, err := l.Next()
		if err != nil {
			break
		}
		for _, v := range b.Views {
			tensor.Put(v)
		}
		batches++
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
	}
	return peak, batches
}

// TestStreamedMemoryBounded: a folder over MaxMemory is decoded from disk
// by the loader's workers, and the live heap while iterating stays flat
// when the folder grows tenfold (it holds the file list and a few batches,
// not the pixels).
func TestStreamedMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1,100 JPEGs")
	}
	small, smallPix := photoDir(t, 100)
	large, largePix := photoDir(t, 1000)
	hs, bs := streamedHeap(t, small)
	hl, bl := streamedHeap(t, large)
	t.Logf("100 images (%d decoded bytes): peak live heap %d bytes over %d batches; 1000 images (%d decoded bytes): %d bytes over %d batches",
		smallPix, hs, bs, largePix, hl, bl)
	if bs != 5 || bl != 50 {
		t.Fatalf("%d and %d batches, want 5 and 50", bs, bl)
	}
	// Held in memory, the large folder would add its 9.3 MB of pixels to
	// the heap. Streamed, the heap holds the file list (a path and a size
	// per image), the batches in flight and the pools: it must stay under
	// half the pixels and grow by less than a quarter of them from 100 to
	// 1,000 images (the margins absorb the work in flight when measured).
	if hl > uint64(largePix)/2 || float64(hl)-float64(hs) > float64(largePix)/4 {
		t.Errorf("peak live heap %d bytes for 1000 streamed images, %d for 100; the pixels are %d bytes: want flat", hl, hs, largePix)
	}
}

// TestStreamedLoaderExact: batches of a streamed mixed-size folder are the
// same for 1 and 3 workers, equal to those of the same folder held in
// memory, and a loader started at a saved Position repeats the rest.
func TestStreamedLoaderExact(t *testing.T) {
	dir, _ := photoDir(t, 40)
	mem, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	str, err := Open(dir, OpenOptions{MaxMemory: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := LoaderConfig{BatchSize: 8, Seed: 9, Shuffle: true, Epochs: 2}
	run := func(ds Dataset, workers int, start Position) []string {
		c := cfg
		c.Workers, c.Start = workers, start
		l, err := NewLoader(ds, c, cropViews)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return collect(t, l, 100)
	}
	want := run(mem, 2, Position{})
	if len(want) != 10 {
		t.Fatalf("%d batches, want 10", len(want))
	}
	for _, w := range []int{1, 3} {
		if got := run(str, w, Position{}); !slices.Equal(got, want) {
			t.Errorf("streamed, %d workers: batches differ from the in-memory folder's", w)
		}
	}
	if got := run(str, 2, Position{Epoch: 1, Index: 16}); !slices.Equal(got, want[7:]) {
		t.Errorf("streamed, resumed at epoch 1 sample 16: %d batches, want the last 3 of the full run", len(got))
	}
}
