package eval

import (
	"math/rand/v2"
	"testing"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// TestFeaturesMatchStageForward checks that the folded feature extraction
// (Features, FeaturesAt, FeaturesAtLayers, batches of 3 over 7 images)
// gives the rows of the autograd evaluation-mode StageForward, after
// training-mode passes have moved the batch-norm statistics.
func TestFeaturesMatchStageForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	enc := models.MustResNet(models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.0625}, rng)
	for i := 0; i < 2; i++ { // training-mode passes: running statistics away from 0 and 1
		x := tensor.New(4, 16, 16, 3)
		nn.Normal(x, 0.3, 1, rng)
		autograd.NoGrad(func() { enc.Forward(autograd.Const(x)) })
	}
	ds := data.Synthetic(7, 16, 16, 3, 2, 5)
	imgs := make([]*augment.Image, ds.Len())
	for i := range imgs {
		img, err := ds.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		imgs[i] = img
	}
	x := augment.Stack(imgs)
	want := map[string]*tensor.Tensor{}
	nn.SetTraining(enc, false)
	for _, l := range Layers {
		autograd.NoGrad(func() { want[l] = StageForward(enc, autograd.Const(x), l).Data.Clone() })
	}
	nn.SetTraining(enc, true)
	check := func(what string, got, want *tensor.Tensor) {
		t.Helper()
		if !tensor.SameShape(got, want) {
			t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
		}
		if d := tensor.MaxAbsDiff(got, want); d > 1e-4 {
			t.Errorf("%s: max difference %g from StageForward", what, d)
		}
	}
	f, _, err := Features(enc, ds, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	check("Features", f, want["pool"])
	g, _, err := FeaturesAt(enc, ds, 3, nil, "layer2")
	if err != nil {
		t.Fatal(err)
	}
	check("FeaturesAt layer2", g, want["layer2"])
	all, _, err := FeaturesAtLayers(enc, ds, 3, nil, Layers)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range Layers {
		check("FeaturesAtLayers "+l, all[i], want[l])
	}
}
