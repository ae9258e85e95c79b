package data

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// twoViews is a toy augmentation: view 0 is the image with a random
// brightness offset, view 1 a random 2×2 crop, both driven by rng only.
func twoViews(img *augment.Image, rng *rand.Rand) []*augment.Image {
	a := augment.NewImage(img.H, img.W, img.C)
	off := rng.Float32()
	for i, v := range img.Pix {
		a.Pix[i] = v + off
	}
	y, x := rng.IntN(img.H-1), rng.IntN(img.W-1)
	b := augment.NewImage(2, 2, img.C)
	for dy := range 2 {
		for dx := range 2 {
			for c := range img.C {
				b.Pix[(dy*2+dx)*img.C+c] = img.Pix[((y+dy)*img.W+x+dx)*img.C+c]
			}
		}
	}
	return []*augment.Image{a, b}
}

// collect reads n batches (or to the end), returning a fingerprint of each.
func collect(t *testing.T, l *Loader, n int) []string {
	t.Helper()
	var out []string
	for range n {
		b, err := l.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "e%d s%d idx%v lab%v", b.Epoch, b.Step, b.Indices, b.Labels)
		for _, v := range b.Views {
			fmt.Fprintf(&sb, " %v", v.Shape())
			for _, f := range v.Data {
				fmt.Fprintf(&sb, ",%.6f", f)
			}
			tensor.Put(v)
		}
		out = append(out, sb.String())
	}
	return out
}

func newLoader(t *testing.T, ds Dataset, cfg LoaderConfig) *Loader {
	t.Helper()
	l, err := NewLoader(ds, cfg, twoViews)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestLoaderDeterminism: the same seed gives the same batches with 1 or 4
// workers; another seed does not.
func TestLoaderDeterminism(t *testing.T) {
	ds := Synthetic(37, 5, 4, 3, 3, 1)
	cfg := LoaderConfig{BatchSize: 8, Seed: 42, Shuffle: true, Workers: 1, Epochs: 3}
	one := collect(t, newLoader(t, ds, cfg), 100)
	cfg.Workers, cfg.Prefetch = 4, 1
	four := collect(t, newLoader(t, ds, cfg), 100)
	if len(one) != 15 || !slices.Equal(one, four) {
		t.Fatalf("1 worker gave %d batches, 4 workers %d; equal: %v", len(one), len(four), slices.Equal(one, four))
	}
	cfg.Seed = 43
	if other := collect(t, newLoader(t, ds, cfg), 100); other[0] == one[0] {
		t.Error("seeds 42 and 43 gave the same first batch")
	}
}

// TestLoaderEpochs: every index exactly once per epoch, a new order each
// epoch, labels and views matching the dataset, the last partial batch
// kept or dropped.
func TestLoaderEpochs(t *testing.T) {
	ds := Synthetic(10, 4, 4, 1, 2, 7)
	for _, dropLast := range []bool{false, true} {
		l := newLoader(t, ds, LoaderConfig{BatchSize: 4, Seed: 1, Shuffle: true, DropLast: dropLast, Epochs: 2, Workers: 3})
		want := map[bool]int{false: 3, true: 2}[dropLast]
		if l.StepsPerEpoch() != want {
			t.Errorf("DropLast %v: %d steps per epoch, want %d", dropLast, l.StepsPerEpoch(), want)
		}
		var orders [2][]int
		steps := 0
		for {
			b, err := l.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			steps++
			if b.Step != len(orders[b.Epoch])/4 || len(b.Views) != 2 || b.Views[1].Dim(0) != len(b.Indices) {
				t.Errorf("batch epoch %d step %d: %d indices, views %v", b.Epoch, b.Step, len(b.Indices), b.Views[1].Shape())
			}
			orders[b.Epoch] = append(orders[b.Epoch], b.Indices...)
			for i, k := range b.Indices {
				img, _ := ds.Image(k)
				if b.Labels[i] != ds.Label(k) || b.Views[0].Data[i*16]-img.Pix[0] < 0 || b.Views[0].Data[i*16]-img.Pix[0] > 1 {
					t.Errorf("batch row %d does not come from sample %d", i, k)
				}
			}
		}
		if steps != 2*want {
			t.Errorf("DropLast %v: %d batches in 2 epochs, want %d", dropLast, steps, 2*want)
		}
		for e, o := range orders {
			if dropLast && len(o) != 8 {
				t.Errorf("DropLast: epoch %d delivered %d samples, want 8", e, len(o))
			}
			s := slices.Sorted(slices.Values(o))
			if !dropLast && !slices.Equal(s, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
				t.Errorf("epoch %d order %v is not a permutation of 0..9", e, o)
			}
			if len(slices.Compact(s)) != len(o) {
				t.Errorf("epoch %d repeats a sample: %v", e, o)
			}
		}
		if slices.Equal(orders[0], orders[1]) {
			t.Errorf("epochs 0 and 1 share the order %v", orders[0])
		}
	}
	// Without Shuffle the order is the dataset's.
	l := newLoader(t, ds, LoaderConfig{BatchSize: 3, Epochs: 1})
	b, _ := l.Next()
	if !slices.Equal(b.Indices, []int{0, 1, 2}) {
		t.Errorf("unshuffled first batch %v", b.Indices)
	}
}

// TestLoaderResume: a loader started at a saved Position continues the
// stream exactly, across an epoch boundary.
func TestLoaderResume(t *testing.T) {
	ds := Synthetic(11, 3, 3, 3, 4, 3)
	cfg := LoaderConfig{BatchSize: 4, Seed: 9, Shuffle: true, Epochs: 3, Workers: 2}
	full := collect(t, newLoader(t, ds, cfg), 100)
	for _, stop := range []int{0, 1, 2, 3, 5} {
		l := newLoader(t, ds, cfg)
		head := collect(t, l, stop)
		pos := l.Position()
		l.Close()
		cfg2 := cfg
		cfg2.Start, cfg2.Workers = pos, 3
		tail := collect(t, newLoader(t, ds, cfg2), 100)
		if got := append(head, tail...); !slices.Equal(got, full) {
			t.Errorf("stop after %d batches at %+v: resumed stream differs (%d batches, want %d)", stop, pos, len(got), len(full))
		}
	}
	l := newLoader(t, ds, cfg)
	collect(t, l, 3)
	if p := l.Position(); p != (Position{Epoch: 1, Index: 0}) {
		t.Errorf("after one epoch of 3 batches, position %+v, want {1 0}", p)
	}
}

func TestLoaderErrors(t *testing.T) {
	ds := Synthetic(6, 4, 4, 3, 2, 1)
	for _, cfg := range []LoaderConfig{{}, {BatchSize: 7, DropLast: true}, {BatchSize: 2, Start: Position{Index: 7}}, {BatchSize: 2, Workers: -1}} {
		if _, err := NewLoader(ds, cfg, nil); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	// Views of different sizes in one batch.
	bad := func(img *augment.Image, rng *rand.Rand) []*augment.Image {
		return []*augment.Image{augment.NewImage(1+rng.IntN(3), 2, 3)}
	}
	l, err := NewLoader(ds, LoaderConfig{BatchSize: 6}, bad)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Next(); err == nil || !strings.Contains(err.Error(), "must have one size") {
		t.Errorf("mixed view sizes: %v", err)
	}
	if _, err2 := l.Next(); err2 == nil {
		t.Error("error not sticky")
	}
	// A panicking augmentation becomes an error.
	boom := func(*augment.Image, *rand.Rand) []*augment.Image { panic("boom") }
	l2, _ := NewLoader(ds, LoaderConfig{BatchSize: 2}, boom)
	defer l2.Close()
	if _, err := l2.Next(); err == nil || !strings.Contains(err.Error(), "panicked: boom") {
		t.Errorf("panic in views: %v", err)
	}
	// A streamed image that vanished: the dataset's error.
	l3, _ := NewLoader(failing{ds}, LoaderConfig{BatchSize: 2}, nil)
	defer l3.Close()
	if _, err := l3.Next(); !errors.Is(err, errVanished) {
		t.Errorf("failing dataset: %v", err)
	}
}

var errVanished = errors.New("vanished")

type failing struct{ RawDataset }

func (f failing) Image(i int) (*augment.Image, error) { return nil, errVanished }

// TestLoaderClose: Close returns promptly at any point, with batches
// pending, while workers are busy, twice, and Next afterwards says so.
func TestLoaderClose(t *testing.T) {
	ds := Synthetic(64, 8, 8, 3, 4, 1)
	slow := func(img *augment.Image, rng *rand.Rand) []*augment.Image {
		time.Sleep(time.Millisecond)
		return []*augment.Image{img}
	}
	for _, reads := range []int{0, 1, 3} {
		l, err := NewLoader(ds, LoaderConfig{BatchSize: 4, Shuffle: true, Workers: 4, Prefetch: 3}, slow)
		if err != nil {
			t.Fatal(err)
		}
		for range reads {
			if _, err := l.Next(); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan struct{})
		go func() { l.Close(); l.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Close after %d batches did not return", reads)
		}
		if _, err := l.Next(); !errors.Is(err, ErrClosed) {
			t.Errorf("Next after Close: %v", err)
		}
	}
	// Close from another goroutine while Next waits.
	block := make(chan struct{})
	l, _ := NewLoader(ds, LoaderConfig{BatchSize: 4, Workers: 1}, func(img *augment.Image, _ *rand.Rand) []*augment.Image {
		<-block
		return []*augment.Image{img}
	})
	go func() { time.Sleep(10 * time.Millisecond); close(block); l.Close() }()
	for {
		if _, err := l.Next(); err != nil {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("Next during Close: %v", err)
			}
			break
		}
	}
}
