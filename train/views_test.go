package train

import (
	"math/rand/v2"
	"testing"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/methods"
)

// TestViewsInUse: two-crop SwAV builds only its two global crops, with
// the same pixels as the first two of the full multi-crop; other methods
// and SwAV with all local crops keep every view.
func TestViewsInUse(t *testing.T) {
	mv, err := augment.Preset("swav", 32, 3)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Method: "swav", Methods: methods.DefaultOptions()}
	if got := viewsInUse(cfg, mv); len(got.Pipelines) != 8 {
		t.Fatalf("swav, all local crops: %d views, want 8", len(got.Pipelines))
	}
	cfg.Methods.SwAV.LocalCrops = 0
	two := viewsInUse(cfg, mv)
	if len(two.Pipelines) != 2 || len(mv.Pipelines) != 8 {
		t.Fatalf("two-crop swav: %d views (preset left with %d), want 2 (8)", len(two.Pipelines), len(mv.Pipelines))
	}
	img := augment.NewImage(32, 32, 3)
	for i := range img.Pix {
		img.Pix[i] = float32(i%97) / 97
	}
	full := mv.Views(img, rand.New(rand.NewPCG(3, 4)))
	got := two.Views(img, rand.New(rand.NewPCG(3, 4)))
	for v := range 2 {
		for i := range got[v].Pix {
			if got[v].Pix[i] != full[v].Pix[i] {
				t.Fatalf("view %d differs from the full preset's at value %d", v, i)
			}
		}
	}
	cfg.Method = "simclr"
	if got := viewsInUse(cfg, mv); got != mv {
		t.Error("simclr: views changed")
	}
}
