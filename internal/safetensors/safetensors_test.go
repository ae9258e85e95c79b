package safetensors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/tensor"
)

func TestRoundTrip(t *testing.T) {
	f := New()
	f.Metadata["producer"] = "test"
	f.PutFloat32("a.weight", tensor.FromSlice([]float32{1, -2.5, 3, 4e-8, 5, 6}, 2, 3))
	f.PutInt64("idx", []int64{7, -1, 1 << 40})
	f.PutBytes("rng", []byte{1, 2, 3})
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	g, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := g.Float32("a.weight")
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.EqualShape(a.Shape(), []int{2, 3}) || a.Data[1] != -2.5 || a.Data[3] != 4e-8 {
		t.Fatalf("a.weight = %v %v", a.Shape(), a.Data)
	}
	idx, _, err := g.Int64("idx")
	if err != nil || idx[2] != 1<<40 || idx[1] != -1 {
		t.Fatalf("idx = %v, %v", idx, err)
	}
	if g.Metadata["producer"] != "test" {
		t.Fatalf("metadata = %v", g.Metadata)
	}
	if b, _ := g.Bytes("rng"); string(b) != "\x01\x02\x03" {
		t.Fatalf("rng = %v", b)
	}
}

func TestTruncated(t *testing.T) {
	f := New()
	f.PutFloat32("w", tensor.New(4, 4))
	b, _ := f.Encode()
	for _, n := range []int{0, 5, 8, 20, len(b) - 1} {
		if _, err := Parse(b[:n]); err == nil {
			t.Errorf("Parse of %d/%d bytes: no error", n, len(b))
		}
	}
	path := filepath.Join(t.TempDir(), "cut.safetensors")
	os.WriteFile(path, b[:len(b)-3], 0o644)
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Read truncated: err = %v, want one naming %s", err, path)
	}
}
