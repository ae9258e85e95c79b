package checkpoint_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/fuzzing"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// FuzzLoad loads a file as a training checkpoint of small(): the format
// check, the model match and the typed training state. An error names
// the file; nothing is copied into the model unless the load succeeds.
// Seeds: testdata/fuzz/FuzzLoad (TestFuzzSeeds, CONTRASTIVE_WRITE_SEEDS=1).
// Run with
//
//	go test -run XXX -fuzz FuzzLoad -fuzztime 5m -parallel 1 ./checkpoint
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "c.safetensors")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		dst := small()
		dst[0].F32.Data[0] = -7
		var ck *checkpoint.Checkpoint
		var err error
		fuzzing.Check(t, 64*uint64(len(b)), func() { ck, err = checkpoint.Load(p, dst) })
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the file", err)
			}
			var mm *checkpoint.MismatchError
			if dst[0].F32.Data[0] != -7 && !errors.As(err, &mm) {
				t.Fatalf("failed load (%v) wrote into the model", err)
			}
			return
		}
		file, err := safetensors.Parse(b)
		if err != nil {
			t.Fatalf("loaded a file that does not parse: %v", err)
		}
		w, err := file.Float32("w")
		if err != nil {
			t.Fatalf("model tensor w: %v", err)
		}
		for i, v := range w.Data {
			if math.Float32bits(v) != math.Float32bits(ck.Model[0].F32.Data[i]) {
				t.Fatalf("model tensor w is not the file's at %d", i)
			}
		}
	})
}

func TestFuzzSeeds(t *testing.T) {
	p := craft(t, func(map[string]string) {})
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	newer, _ := os.ReadFile(craft(t, func(m map[string]string) { m["format_version"] = "2" }))
	f := safetensors.New()
	f.PutFloat32("w", tensor.Full(1, 3, 2))
	shape, _ := f.Encode()
	fuzzing.SyncCorpus(t, "FuzzLoad", []fuzzing.Seed{
		{Name: "checkpoint", Args: []any{good}},
		{Name: "newer", Args: []any{newer}},
		{Name: "shape-mismatch", Args: []any{shape}},
		{Name: "empty", Args: []any{[]byte{}}},
	})
}
