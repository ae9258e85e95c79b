package data

import (
	"slices"
	"testing"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// TestLoaderShards: the parts of Shards loaders, concatenated in shard
// order, are the batches of one loader over the whole batch, views
// included, and positions are those of the whole batches.
func TestLoaderShards(t *testing.T) {
	ds := Synthetic(22, 5, 4, 3, 3, 1)
	cfg := LoaderConfig{BatchSize: 6, Seed: 7, Shuffle: true, Workers: 2, Epochs: 2, DropLast: true}
	full := newLoader(t, ds, cfg)
	const shards = 3
	parts := make([]*Loader, shards)
	for s := range parts {
		c := cfg
		c.Shard, c.Shards = s, shards
		parts[s] = newLoader(t, ds, c)
	}
	for step := 0; step < 6; step++ {
		want, err := full.Next()
		if err != nil {
			t.Fatal(err)
		}
		var idx []int
		var views [2][]float32
		for s, l := range parts {
			b, err := l.Next()
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Indices) != cfg.BatchSize/shards || b.Epoch != want.Epoch {
				t.Fatalf("step %d shard %d: %d samples of epoch %d, want %d of epoch %d", step, s, len(b.Indices), b.Epoch, cfg.BatchSize/shards, want.Epoch)
			}
			if l.Position() != full.Position() {
				t.Fatalf("step %d shard %d: position %+v, the whole batch's %+v", step, s, l.Position(), full.Position())
			}
			idx = append(idx, b.Indices...)
			for v := range views {
				views[v] = append(views[v], b.Views[v].Data...)
				tensor.Put(b.Views[v])
			}
		}
		if !slices.Equal(idx, want.Indices) {
			t.Fatalf("step %d: shards hold samples %v, the whole batch %v", step, idx, want.Indices)
		}
		for v := range views {
			if !slices.Equal(views[v], want.Views[v].Data) {
				t.Fatalf("step %d: view %d of the shards differs from the whole batch's", step, v)
			}
		}
	}
	if _, err := NewLoader(ds, LoaderConfig{BatchSize: 5, Shards: 2}, twoViews); err == nil {
		t.Error("a batch of 5 split into 2 shards: no error")
	}
}
