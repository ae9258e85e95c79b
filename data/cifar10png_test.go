package data

import (
	"math"
	"os"
	"testing"
	"time"
)

// cifar10PNG is the project's shared CIFAR-10 archive (see
// ../shared/datasets/README.md).
const cifar10PNG = "../../shared/datasets/cifar10-png.tgz"

// TestCIFAR10PNG opens the shared CIFAR-10 PNG archive and checks the
// counts, classes and the published per-channel training mean.
func TestCIFAR10PNG(t *testing.T) {
	if _, err := os.Stat(cifar10PNG); err != nil {
		t.Skipf("shared dataset %s is absent (it lives next to the project, see ../shared/datasets/README.md): %v", cifar10PNG, err)
	}
	if testing.Short() {
		t.Skip("opening 60,000 PNGs takes a few seconds; skipped with -short")
	}
	for _, tc := range []struct {
		split string
		n     int
	}{{"train", 50000}, {"test", 10000}} {
		start := time.Now()
		ds, err := Open(cifar10PNG+":"+tc.split, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("open %s: %d images in %.2f s", ds.Name(), ds.Len(), time.Since(start).Seconds())
		if ds.Len() != tc.n {
			t.Errorf("%s: %d images, want %d", ds.Name(), ds.Len(), tc.n)
		}
		if h, w, c := ds.Shape(); h != 32 || w != 32 || c != 3 {
			t.Errorf("%s: shape %dx%dx%d, want 32x32x3", ds.Name(), h, w, c)
		}
		want := []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
		if got := ds.ClassNames(); !equalStrings(got, want) {
			t.Errorf("%s: classes %v, want %v", ds.Name(), got, want)
		}
		counts := make([]int, ds.NumClasses())
		for i := range ds.Len() {
			counts[ds.Label(i)]++
		}
		for k, c := range counts {
			if c != tc.n/10 {
				t.Errorf("%s: class %s has %d images, want %d", ds.Name(), want[k], c, tc.n/10)
			}
		}
		if tc.split != "train" {
			continue
		}
		// The published per-channel mean and standard deviation (0-255)
		// pin every pixel of the decoder down far better than a checksum
		// of a few images would.
		var sum, sq [3]float64
		rds := ds.(RawDataset)
		for i := range ds.Len() {
			r, _ := rds.Raw(i)
			for p := 0; p < len(r.Pix); p += 3 {
				for c := range 3 {
					v := float64(r.Pix[p+c])
					sum[c] += v
					sq[c] += v * v
				}
			}
		}
		wantMean := [3]float64{125.307, 122.950, 113.865}
		wantStd := [3]float64{62.993, 62.089, 66.705}
		n := float64(ds.Len() * 32 * 32)
		for c := range 3 {
			m := sum[c] / n
			sd := math.Sqrt(sq[c]/n - m*m)
			if math.Abs(m-wantMean[c]) > 0.01 || math.Abs(sd-wantStd[c]) > 0.01 {
				t.Errorf("channel %d mean %.4f std %.4f, want %.3f and %.3f ± 0.01", c, m, sd, wantMean[c], wantStd[c])
			}
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
