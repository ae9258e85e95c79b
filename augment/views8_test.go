package augment

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestViewsU8MatchesViews: for every preset, ViewsU8 on a uint8 image
// gives exactly the views of Views on its float32 conversion, from the
// same seed.
func TestViewsU8MatchesViews(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{32, 96} {
		img := Image8{H: 61, W: 143, C: 3, Pix: make([]uint8, 61*143*3)}
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.IntN(256))
		}
		full := img.ToFloat(0, 0, img.H, img.W)
		for _, name := range PresetNames() {
			mv, err := Preset(name, size, 3)
			if err != nil {
				t.Fatal(err)
			}
			for seed := range uint64(3) {
				a := mv.Views(full, rand.New(rand.NewPCG(seed, 7)))
				b := mv.ViewsU8(img, rand.New(rand.NewPCG(seed, 7)))
				if len(a) != len(b) {
					t.Fatalf("%s: %d views, ViewsU8 %d", name, len(a), len(b))
				}
				for v := range a {
					if a[v].H != b[v].H || a[v].W != b[v].W || !slices.Equal(a[v].Pix, b[v].Pix) {
						t.Fatalf("%s size %d seed %d view %d: ViewsU8 differs from Views", name, size, seed, v)
					}
				}
			}
		}
	}
	if v := (Image8{H: 1, W: 2, C: 1, Pix: []uint8{0, 255}}).ToFloat(0, 0, 1, 2); v.Pix[0] != 0 || v.Pix[1] != 1 {
		t.Errorf("ToFloat of 0, 255: %v, want 0, 1", v.Pix)
	}
}
