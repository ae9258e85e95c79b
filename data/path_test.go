package data

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestDatasetPaths(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"train/cat/a.png", "train/dog/b.png", "train/dog/c.png"} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, image.NewGray(image.Rect(0, 0, 4, 4)))
		f.Close()
	}
	ds, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := ds.(interface{ Path(int) string })
	if !ok {
		t.Fatal("folder dataset has no Path method")
	}
	var got []string
	for i := range ds.Len() {
		got = append(got, p.Path(i))
	}
	if len(got) != 3 || got[0] != "train/cat/a.png" || got[2] != "train/dog/c.png" || ds.Label(1) != 1 {
		t.Fatalf("paths %q, label(1) %d", got, ds.Label(1))
	}
	if p.Path(3) != "" {
		t.Fatal("Path out of range should be empty")
	}
}
