package train

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/fuzzing"
)

// FuzzParseConfig parses a YAML config over the defaults. An error names
// the file (and for a KeyError the key); a config that parses and
// validates marshals to YAML that parses back to itself.
// Seeds: testdata/fuzz/FuzzParseConfig (TestFuzzSeeds,
// CONTRASTIVE_WRITE_SEEDS=1). Run with
//
//	go test -run XXX -fuzz FuzzParseConfig -fuzztime 5m -parallel 1 ./train
func FuzzParseConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var cfg Config
		var err error
		// YAML aliases can expand a small document; yaml.v3 bounds that
		// expansion to a multiple of the document's size.
		fuzzing.Check(t, 512*uint64(len(b)), func() { cfg, err = ParseConfig("f.yaml", b, DefaultConfig()) })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config f.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			var ke *KeyError
			if errors.As(err, &ke) && ke.Key == "" {
				t.Fatalf("KeyError without a key: %v", err)
			}
			return
		}
		if err := Locate(cfg.Validate(), "f.yaml", b); err != nil {
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Key == "" {
				t.Fatalf("validation error %v is not a KeyError naming a key", err)
			}
			return
		}
		again, err := ParseConfig("again.yaml", cfg.Marshal(), DefaultConfig())
		if err != nil {
			t.Fatalf("marshalled config does not parse: %v\n%s", err, cfg.Marshal())
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", cfg, again)
		}
	})
}

func TestFuzzSeeds(t *testing.T) {
	seeds := []fuzzing.Seed{
		{Name: "wrong-type", Args: []any{[]byte("batch_size: many\n")}},
		{Name: "unknown-key", Args: []any{[]byte("methods:\n  moco:\n    queue: 3\n")}},
		{Name: "out-of-range", Args: []any{[]byte("momentum: 1.5\n")}},
		{Name: "nan", Args: []any{[]byte("lr: .nan\n")}},
		{Name: "flow", Args: []any{[]byte("{method: moco, methods: {moco: {queue_size: 4096, momentum: 0.99}}}\n")}},
		{Name: "anchors", Args: []any{[]byte("a: &x 3\nepochs: *x\n")}},
		{Name: "two-docs", Args: []any{[]byte("epochs: 3\n---\nepochs: x\n")}},
	}
	files, _ := filepath.Glob("../configs/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, fuzzing.Seed{Name: strings.TrimSuffix(filepath.Base(p), ".yaml"), Args: []any{b}})
	}
	fuzzing.SyncCorpus(t, "FuzzParseConfig", seeds)
}
