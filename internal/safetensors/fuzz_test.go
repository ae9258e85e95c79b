package safetensors

import (
	"bytes"
	"encoding/binary"
	"math/big"
	"os"
	"reflect"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/fuzzing"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// FuzzParse parses a safetensors image, reads every tensor through the
// typed accessors, and checks that encoding what was parsed and parsing
// it again gives the same tensors. Seeds: testdata/fuzz/FuzzParse (written
// by TestFuzzSeeds with CONTRASTIVE_WRITE_SEEDS=1). Run with
//
//	go test -run XXX -fuzz FuzzParse -fuzztime 5m -parallel 1 ./internal/safetensors
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var file *File
		var err error
		// The header is JSON of at most len(b) bytes; tensors alias b, and
		// the accessors below copy each at most twice over (F64 to F32 halves).
		fuzzing.Check(t, 64*uint64(len(b)), func() {
			if file, err = Parse(b); err != nil {
				return
			}
			for _, name := range file.Names() {
				e := file.Entries[name]
				if !sizeMatches(e) {
					t.Fatalf("%s: shape %v of %s does not hold %d bytes", name, e.Shape, e.DType, len(e.Data))
				}
				switch e.DType {
				case "F32", "F64":
					var x *tensor.Tensor
					if x, err = file.Float32(name); err == nil && len(x.Data)*dtypeSize[e.DType] != len(e.Data) {
						t.Fatalf("%s: %d values from %d bytes of %s", name, len(x.Data), len(e.Data), e.DType)
					}
				case "I64", "I32":
					_, _, err = file.Int64(name)
				}
				if err != nil {
					t.Fatalf("%s: parsed but unreadable: %v", name, err)
				}
			}
		})
		if err != nil {
			return
		}
		enc, err := file.Encode()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := Parse(enc)
		if err != nil {
			t.Fatalf("parse of the re-encoded file: %v", err)
		}
		if len(again.Entries) != len(file.Entries) || (len(file.Metadata) > 0 && !reflect.DeepEqual(again.Metadata, file.Metadata)) {
			t.Fatalf("round trip changed the file: %d → %d tensors, metadata %v → %v", len(file.Entries), len(again.Entries), file.Metadata, again.Metadata)
		}
		for name, e := range file.Entries {
			a := again.Entries[name]
			if a == nil || a.DType != e.DType || !reflect.DeepEqual(nonNil(a.Shape), nonNil(e.Shape)) || !bytes.Equal(a.Data, e.Data) {
				t.Fatalf("round trip changed tensor %q", name)
			}
		}
	})
}

// sizeMatches reports whether e's shape and dtype describe exactly its
// bytes, multiplying without overflow.
func sizeMatches(e *Entry) bool {
	n := new(big.Int).SetInt64(int64(dtypeSize[e.DType]))
	for _, d := range e.Shape {
		n.Mul(n, big.NewInt(int64(d)))
	}
	return n.Cmp(big.NewInt(int64(len(e.Data)))) == 0
}

// raw is a safetensors image with the given JSON header and no data.
func raw(header string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, uint64(len(header))), header...)
}

func TestFuzzSeeds(t *testing.T) {
	f := New()
	f.Metadata["format"] = "contrastive"
	f.Metadata["format_version"] = "1"
	f.PutFloat32("w", tensor.FromSlice([]float32{1, -2, 3.5, 0}, 2, 2))
	f.PutInt64("n", []int64{7}, []int{}...)
	f.PutBytes("rng/x", []byte{1, 2, 3})
	f.Entries["d"] = &Entry{DType: "F64", Shape: []int{1}, Data: binary.LittleEndian.AppendUint64(nil, 0x400921fb54442d18)}
	f.Entries["e"] = &Entry{DType: "F32", Shape: []int{0, 3}, Data: nil}
	good, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	optim, err := os.ReadFile("../../optim/testdata/optim.safetensors") // written by tools/gen_optim_fixtures.py
	if err != nil {
		t.Fatal(err)
	}
	if len(optim) > 64<<10 {
		optim = optim[:64<<10]
	}
	fuzzing.SyncCorpus(t, "FuzzParse", []fuzzing.Seed{
		{Name: "checkpoint", Args: []any{good}},
		{Name: "torch", Args: []any{optim}},
		{Name: "truncated", Args: []any{good[:len(good)-5]}},
		{Name: "bad-offsets", Args: []any{raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9]}}`)}},
		{Name: "huge-shape", Args: []any{raw(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}`)}},
	})
}
