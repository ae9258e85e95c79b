package data

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestMNISTFiles checks the embedded files against the checksums of the
// official MNIST distribution (sizes and SHA-256 of the four .gz files;
// their MD5 sums, f68b3c2d…, d53e105e…, 9fb629c4…, ec29112d…, are the
// ones torchvision checks).
func TestMNISTFiles(t *testing.T) {
	want := map[string]struct {
		size int
		sha  string
	}{
		"train-images-idx3-ubyte.gz": {9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
		"train-labels-idx1-ubyte.gz": {28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
		"t10k-images-idx3-ubyte.gz":  {1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
		"t10k-labels-idx1-ubyte.gz":  {4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
	}
	ents, err := mnistFiles.ReadDir("mnist")
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(want) {
		t.Errorf("embedded %d files, want %d", len(ents), len(want))
	}
	for name, w := range want {
		b, err := mnistFiles.ReadFile("mnist/" + name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		sum := sha256.Sum256(b)
		if len(b) != w.size || hex.EncodeToString(sum[:]) != w.sha {
			t.Errorf("%s: %d bytes sha256 %x, want %d bytes sha256 %s", name, len(b), sum, w.size, w.sha)
		}
	}
}

// TestMNISTDecode spot-checks the decoded images and labels against values
// read from the files with Python's gzip and struct modules.
func TestMNISTDecode(t *testing.T) {
	for _, tc := range []struct {
		ref          string
		n            int
		labels       []int
		sum0         int // pixel sum of image 0 (0-255)
		center0      uint8
		sumAll       int
		zeros, nines int
	}{
		{"mnist", 60000, []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, 27525, 240, 1567298545, 5923, 5949},
		{"mnist:test", 10000, []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}, 18454, 0, 264923200, 980, 1009},
	} {
		ds, err := Open(tc.ref, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rds := ds.(RawDataset)
		if h, w, c := ds.Shape(); ds.Len() != tc.n || h != 28 || w != 28 || c != 1 || ds.NumClasses() != 10 {
			t.Fatalf("%s: %d images of %dx%dx%d in %d classes, want %d of 28x28x1 in 10", tc.ref, ds.Len(), h, w, c, ds.NumClasses(), tc.n)
		}
		for i, l := range tc.labels {
			if ds.Label(i) != l {
				t.Errorf("%s: label %d = %d, want %d", tc.ref, i, ds.Label(i), l)
			}
		}
		r, _ := rds.Raw(0)
		sum0 := 0
		for _, v := range r.Pix {
			sum0 += int(v)
		}
		if sum0 != tc.sum0 || r.Pix[14*28+14] != tc.center0 {
			t.Errorf("%s: image 0 sum %d centre %d, want %d and %d", tc.ref, sum0, r.Pix[14*28+14], tc.sum0, tc.center0)
		}
		img, _ := ds.Image(0)
		if got, want := img.Pix[14*28+14], float32(tc.center0)/255; got != want {
			t.Errorf("%s: Image(0) centre %v, want %v", tc.ref, got, want)
		}
		sumAll, counts := 0, make([]int, 10)
		for i := range ds.Len() {
			r, _ := rds.Raw(i)
			for _, v := range r.Pix {
				sumAll += int(v)
			}
			counts[ds.Label(i)]++
		}
		if sumAll != tc.sumAll || counts[0] != tc.zeros || counts[9] != tc.nines {
			t.Errorf("%s: pixel sum %d, %d zeros, %d nines; want %d, %d, %d", tc.ref, sumAll, counts[0], counts[9], tc.sumAll, tc.zeros, tc.nines)
		}
		again, _ := Open(tc.ref, OpenOptions{})
		if again.(*set) != ds.(*set) {
			t.Errorf("%s: opened twice, decoded twice", tc.ref)
		}
	}
}
