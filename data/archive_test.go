package data

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// member is one archive entry; a name ending in "/" is a folder.
type member struct {
	name string
	data []byte
}

// writeTar writes members to path, gzip-compressed for .tgz/.tar.gz.
func writeTar(t *testing.T, path string, members []member) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(m.name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !strings.HasSuffix(path, ".tar") {
		b = gz(t, b)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// folderMembers is a small CIFAR-like image folder: test entries first, as
// in the shared cifar10-png.tgz, with folder entries and a README.
func folderMembers(t *testing.T) []member {
	ms := []member{{"c10/", nil}, {"c10/README.md", []byte("hi")}, {"c10/test/", nil}, {"c10/test/cat/", nil}}
	for i := range 3 {
		ms = append(ms, member{fmt.Sprintf("c10/test/cat/%d.png", i), encode(t, rgbImage(5, 4, 100+i), ".png")})
	}
	ms = append(ms, member{"c10/train/", nil}, member{"c10/train/cat/", nil}, member{"c10/train/dog/", nil})
	for i := range 4 {
		ms = append(ms, member{fmt.Sprintf("c10/train/%s/%d.png", []string{"dog", "cat"}[i%2], i), encode(t, rgbImage(5, 4, i), ".png")})
	}
	return ms
}

// sameSet checks that two datasets hold the same images, labels and classes.
func sameSet(t *testing.T, a, b Dataset) {
	t.Helper()
	if a.Len() != b.Len() || !slices.Equal(a.ClassNames(), b.ClassNames()) {
		t.Fatalf("%s: %d images, classes %v; %s: %d images, classes %v", a.Name(), a.Len(), a.ClassNames(), b.Name(), b.Len(), b.ClassNames())
	}
	for i := range a.Len() {
		ra, err := a.(RawDataset).Raw(i)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.(RawDataset).Raw(i)
		if err != nil {
			t.Fatal(err)
		}
		if a.Label(i) != b.Label(i) || !bytes.Equal(ra.Pix, rb.Pix) || ra.H != rb.H || ra.W != rb.W {
			t.Fatalf("image %d differs between %s and %s", i, a.Name(), b.Name())
		}
	}
}

func TestArchiveImageFolder(t *testing.T) {
	dir := t.TempDir()
	ms := folderMembers(t)
	for _, m := range ms {
		if strings.HasSuffix(m.name, "/") {
			os.MkdirAll(filepath.Join(dir, "unpacked", m.name), 0o755)
		} else {
			writeFile(t, filepath.Join(dir, "unpacked"), m.name, m.data)
		}
	}
	for _, name := range []string{"c10.tgz", "c10.tar", "c10.tar.gz"} {
		p := filepath.Join(dir, name)
		writeTar(t, p, ms)
		for _, split := range []string{"train", "test"} {
			ds, err := Open(p+":"+split, OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			folder, err := Open(filepath.Join(dir, "unpacked")+":"+split, OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sameSet(t, ds, folder)
			if want := map[string]int{"train": 4, "test": 3}[split]; ds.Len() != want || ds.NumClasses() != 2 {
				t.Errorf("%s:%s: %d images in %d classes, want %d in 2", name, split, ds.Len(), ds.NumClasses(), want)
			}
		}
	}
	// A class-folder layout below one shared folder.
	p := filepath.Join(dir, "pets.tar")
	writeTar(t, p, []member{
		{"pets/cat/1.png", encode(t, rgbImage(3, 3, 1), ".png")},
		{"pets/dog/1.png", encode(t, rgbImage(3, 3, 2), ".png")},
	})
	ds, err := Open(p, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2 || fmt.Sprint(ds.ClassNames()) != "[cat dog]" || ds.Label(1) != 1 {
		t.Errorf("pets.tar: %d images, classes %v", ds.Len(), ds.ClassNames())
	}
}

func TestArchiveBinary(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cifar-10-binary.tar.gz")
	writeTar(t, p, []member{
		{"cifar-10-batches-bin/", nil},
		{"cifar-10-batches-bin/batches.meta.txt", []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n")},
		{"cifar-10-batches-bin/data_batch_1.bin", cifarRecords(2, func(i int) []uint8 { return []uint8{uint8(7 - i)} })},
		{"cifar-10-batches-bin/test_batch.bin", cifarRecords(1, func(i int) []uint8 { return []uint8{3} })},
	})
	ds, err := Open(p, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2 || ds.Label(1) != 6 || ds.ClassNames()[6] != "g" {
		t.Errorf("CIFAR archive: %d images, label 1 = %d, classes %v", ds.Len(), ds.Label(1), ds.ClassNames())
	}
	checkCIFARPixels(t, ds, 1)
	p = filepath.Join(dir, "fashion.tgz")
	writeTar(t, p, []member{
		{"t10k-images-idx3-ubyte.gz", gz(t, idxImages(2, 2, 3, testPix))},
		{"t10k-labels-idx1-ubyte.gz", gz(t, idxLabels([]uint8{4, 0}))},
	})
	ds, err = Open(p+":test", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2 || ds.Label(0) != 4 {
		t.Errorf("IDX archive: %d images, label 0 = %d", ds.Len(), ds.Label(0))
	}
}

func TestArchiveBad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c10.tgz")
	writeTar(t, p, folderMembers(t))
	b, _ := os.ReadFile(p)
	os.WriteFile(p, b[:len(b)/2], 0o644)
	_, err := Open(p, OpenOptions{})
	wantFormatError(t, err, "c10.tgz", "truncated")

	ms := folderMembers(t)
	ms = append(ms, member{"c10/train/dog/bad.png", []byte("\x89PNG\r\n\x1a\nbroken")})
	writeTar(t, p, ms)
	_, err = Open(p, OpenOptions{})
	wantFormatError(t, err, "c10.tgz/c10/train/dog/bad.png", "not a readable")
	var warn strings.Builder
	ds, err := Open(p, OpenOptions{SkipBad: true, Warn: &warn})
	if err != nil || ds.Len() != 4 || len(Skipped(ds)) != 1 {
		t.Errorf("SkipBad: %v, %d images, skipped %v", err, ds.Len(), Skipped(ds))
	}

	p = filepath.Join(dir, "bin.tar")
	writeTar(t, p, []member{{"x/train-images-idx3-ubyte", idxImages(2, 2, 2, testPix)}, {"x/train-labels-idx1-ubyte", idxLabels([]uint8{1})}})
	_, err = Open(p, OpenOptions{})
	wantFormatError(t, err, "bin.tar/x/train-labels-idx1-ubyte", "1 labels but")

	p = filepath.Join(dir, "empty.tar")
	writeTar(t, p, []member{{"a/", nil}, {"a/notes.txt", []byte("x")}})
	_, err = Open(p, OpenOptions{})
	wantFormatError(t, err, "empty.tar", "no PNG, JPEG or GIF images")
}

// TestArchiveUnpack forces the archive over the memory budget: it is
// unpacked once into the cache folder and streamed from there.
func TestArchiveUnpack(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	p := filepath.Join(dir, "c10.tgz")
	writeTar(t, p, folderMembers(t))
	mem, err := Open(p, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second open finds the cache
		ds, err := Open(p, OpenOptions{MaxMemory: 100, CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		if ds.(*set).stream == nil {
			t.Fatal("over the budget but not streamed")
		}
		sameSet(t, ds, mem)
		ents, _ := os.ReadDir(cache)
		if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "c10.tgz-") || !strings.HasSuffix(ents[0].Name(), "-train") {
			t.Fatalf("cache holds %v, want one c10.tgz-*-train folder", ents)
		}
	}
	// A member escaping the folder is refused when unpacking.
	p = filepath.Join(dir, "evil.tar")
	writeTar(t, p, []member{{"a/train/x/1.png", encode(t, rgbImage(9, 9, 0), ".png")}, {"../../train/x/2.png", encode(t, rgbImage(9, 9, 0), ".png")}})
	_, err = Open(p, OpenOptions{MaxMemory: 100, CacheDir: cache})
	wantFormatError(t, err, "evil.tar", "escapes")
}

// TestArchiveUnpackSameLayout: an archive opens the same whether it fits
// the memory budget or is unpacked into the cache (FuzzArchive found that
// the unpacked folder lost the archive's leading-folder rule), and layout
// errors name the archive either way.
func TestArchiveUnpackSameLayout(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pets.tar")
	writeTar(t, p, []member{{"pets/cat/1.png", encode(t, rgbImage(9, 9, 1), ".png")}, {"pets/dog/2.png", encode(t, rgbImage(9, 9, 2), ".png")},
		{"pets/cat/3.png", encode(t, rgbImage(9, 9, 3), ".png")}})
	mem, err := Open(p, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	un, err := Open(p, OpenOptions{MaxMemory: 100, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if un.(*set).stream == nil || mem.NumClasses() != 2 {
		t.Fatalf("streamed %v, %d classes", un.(*set).stream != nil, mem.NumClasses())
	}
	sameSet(t, un, mem)
	_, err = Open(p+":test", OpenOptions{MaxMemory: 100, CacheDir: t.TempDir()})
	wantFormatError(t, err, "pets.tar", "no test split")
}
