package data

import (
	"testing"
)

func TestIDXFolder(t *testing.T) {
	for _, zipped := range []bool{false, true} {
		dir := t.TempDir()
		enc := func(b []byte) []byte { return b }
		ext := ""
		if zipped {
			enc, ext = func(b []byte) []byte { return gz(t, b) }, ".gz"
		}
		writeFile(t, dir, "train-images-idx3-ubyte"+ext, enc(idxImages(5, 3, 4, testPix)))
		writeFile(t, dir, "train-labels-idx1-ubyte"+ext, enc(idxLabels([]uint8{3, 1, 4, 1, 5})))
		writeFile(t, dir, "t10k-images-idx3-ubyte"+ext, enc(idxImages(2, 3, 4, testPix)))
		writeFile(t, dir, "t10k-labels-idx1-ubyte"+ext, enc(idxLabels([]uint8{9, 2})))
		ds, err := Open(dir, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if h, w, c := ds.Shape(); ds.Len() != 5 || h != 3 || w != 4 || c != 1 || ds.NumClasses() != 6 || ds.Label(2) != 4 {
			t.Fatalf("gz=%v: %d images %dx%dx%d, %d classes, label 2 = %d", zipped, ds.Len(), h, w, c, ds.NumClasses(), ds.Label(2))
		}
		img, err := ds.Image(3)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := img.Pix[2*4+1], float32(testPix(3, 2, 1))/255; got != want {
			t.Errorf("gz=%v: pixel (3, 2, 1) = %v, want %v", zipped, got, want)
		}
		test, err := Open(dir+":test", OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if test.Len() != 2 || test.Label(0) != 9 || test.Name() != dir+":test" {
			t.Errorf("test split: %d images, label 0 = %d, name %q", test.Len(), test.Label(0), test.Name())
		}
	}
}

func TestIDXBad(t *testing.T) {
	good := idxImages(3, 2, 2, testPix)
	for _, tc := range []struct {
		name         string
		imgs, labels []byte
		file, msg    string
	}{
		{"wrong image magic", append([]byte{0, 0, 8, 1}, good[4:]...), idxLabels([]uint8{1, 2, 3}), "train-images-idx3-ubyte", "magic number"},
		{"truncated images", good[:len(good)-1], idxLabels([]uint8{1, 2, 3}), "train-images-idx3-ubyte", "wrong size"},
		{"wrong label magic", good, append([]byte{0, 0, 8, 3}, idxLabels([]uint8{1, 2, 3})[4:]...), "train-labels-idx1-ubyte", "magic number"},
		{"label size", good, idxLabels([]uint8{1, 2, 3})[:10], "train-labels-idx1-ubyte", "wrong size"},
		{"label count", good, idxLabels([]uint8{1, 2}), "train-labels-idx1-ubyte", "2 labels but"},
		{"empty images", nil, idxLabels(nil), "train-images-idx3-ubyte", "magic number"},
		{"bad gzip", []byte{0x1f, 0x8b, 1, 2, 3}, idxLabels(nil), "train-images-idx3-ubyte", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "train-images-idx3-ubyte", tc.imgs)
			writeFile(t, dir, "train-labels-idx1-ubyte", tc.labels)
			_, err := Open(dir, OpenOptions{SkipBad: true})
			wantFormatError(t, err, tc.file, tc.msg)
		})
	}
	dir := t.TempDir()
	writeFile(t, dir, "train-images-idx3-ubyte", good)
	_, err := Open(dir, OpenOptions{})
	wantFormatError(t, err, dir, "labels-idx1")
}
