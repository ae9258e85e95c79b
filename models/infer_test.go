package models_test

import (
	"math/rand/v2"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// randomizeBN gives every batch norm of m non-trivial γ, β and running
// statistics, so that folding them into the convolutions is tested.
func randomizeBN(m nn.Module, rng *rand.Rand) {
	for _, v := range nn.State(m) {
		if v.F32 == nil {
			continue
		}
		switch n := v.Name; {
		case hasSuffix(n, "running_var"):
			nn.Uniform(v.F32, 0.5, 2, rng)
		case hasSuffix(n, "running_mean"), hasSuffix(n, "bn1.bias"), hasSuffix(n, "bn2.bias"), hasSuffix(n, "bn3.bias"), hasSuffix(n, "downsample.1.bias"):
			nn.Uniform(v.F32, -0.3, 0.3, rng)
		case hasSuffix(n, "bn1.weight"), hasSuffix(n, "bn2.weight"), hasSuffix(n, "bn3.weight"), hasSuffix(n, "downsample.1.weight"):
			nn.Uniform(v.F32, 0.5, 1.5, rng)
		}
	}
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// evalStages runs r's evaluation-mode Forward stage by stage and returns
// the stage outputs (stem, layer1…layer4) and the pooled feature.
func evalStages(r *models.ResNet, x *tensor.Tensor) ([]*tensor.Tensor, *tensor.Tensor) {
	nn.SetTraining(r, false)
	defer nn.SetTraining(r, true)
	var maps []*tensor.Tensor
	var pooled *tensor.Tensor
	autograd.NoGrad(func() {
		v := autograd.Const(x)
		for _, s := range r.Stages() {
			v = s.Forward(v)
			if s.Name == "avgpool" {
				pooled = v.Data.Clone()
			} else {
				maps = append(maps, v.Data.Clone())
			}
		}
	})
	return maps, pooled
}

// TestInferenceMatchesEval compares the folded forward pass with the
// evaluation-mode autograd forward, stage by stage, for both block types,
// both stems and the large-map (direct) and small-map (im2col + Sgemm)
// convolution paths, at a batch that runs in one pass and one that the
// buffer budget would not need to split.
func TestInferenceMatchesEval(t *testing.T) {
	cases := []struct {
		cfg  models.Config
		n, s int
	}{
		{models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.125}, 3, 32},
		{models.Config{Arch: "resnet18", Stem: models.StemImageNet, Width: 0.125}, 2, 64},
		{models.Config{Arch: "resnet50", Stem: models.StemImageNet, Width: 0.0625}, 2, 64},
		{models.Config{Arch: "resnet50", Stem: models.StemCIFAR, Width: 0.0625, InChannels: 1}, 3, 16},
	}
	for _, c := range cases {
		t.Run(c.cfg.Arch+"_"+c.cfg.Stem, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			r := models.MustResNet(c.cfg, rng)
			randomizeBN(r, rng)
			in := r.Config().InChannels
			x := tensor.New(c.n, c.s, c.s, in)
			nn.Normal(x, 0, 1, rng)
			wantMaps, wantPool := evalStages(r, x)
			inf := models.NewInference(r)
			var got []*tensor.Tensor
			inf.ForwardStages(x, func(m models.StageMap) bool {
				got = append(got, tensor.FromSlice(append([]float32(nil), m.Data...), m.N, m.H, m.W, m.C))
				return true
			})
			names := []string{"stem", "layer1", "layer2", "layer3", "layer4"}
			if len(got) != len(wantMaps) {
				t.Fatalf("%d stage maps, want %d", len(got), len(wantMaps))
			}
			for i := range got {
				if !tensor.SameShape(got[i], wantMaps[i]) {
					t.Fatalf("%s: shape %v, want %v", names[i], got[i].Shape(), wantMaps[i].Shape())
				}
				if e := relErr(got[i], wantMaps[i]); e > 1e-5 {
					t.Errorf("%s: relative error %.3g > 1e-5", names[i], e)
				}
			}
			out := make([]float32, c.n*inf.FeatureDim())
			for pass := 0; pass < 2; pass++ { // the second pass reuses the buffers
				clear(out)
				inf.Forward(x, out)
				if e := relErr(tensor.FromSlice(out, c.n, inf.FeatureDim()), wantPool); e > 1e-5 {
					t.Errorf("pass %d: pooled features: relative error %.3g > 1e-5", pass, e)
				}
			}
		})
	}
}

// TestInferenceSubBatches checks that a batch split into sub-batches by
// the buffer budget gives the rows of the whole batch.
func TestInferenceSubBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	r := models.MustResNet(models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.0625}, rng)
	randomizeBN(r, rng)
	x := tensor.New(5, 16, 16, 3)
	nn.Normal(x, 0, 1, rng)
	_, want := evalStages(r, x)
	inf := models.NewInference(r)
	defer models.SetInferBudget(models.SetInferBudget(1)) // one image per pass
	out := make([]float32, 5*inf.FeatureDim())
	inf.Forward(x, out)
	if e := relErr(tensor.FromSlice(out, 5, inf.FeatureDim()), want); e > 1e-5 {
		t.Errorf("relative error %.3g > 1e-5", e)
	}
}

// TestInferenceTorchvision runs the folded network on the torchvision
// fixtures (random weights with non-trivial statistics) against PyTorch's
// eval-mode features.
func TestInferenceTorchvision(t *testing.T) {
	for _, path := range torchFixtures {
		t.Run(path, func(t *testing.T) {
			f, err := safetensors.Read(path)
			if err != nil {
				t.Fatalf("%v (%s)", err, exportHint)
			}
			r, err := models.NewResNet(configFromMeta(t, path, f.Metadata), rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(r)), checkpoint.LoadOptions{IgnoreUnexpected: true}); err != nil {
				t.Fatalf("%v (%s)", err, exportHint)
			}
			x, err1 := f.Float32("input.nchw")
			want, err2 := f.Float32("features")
			if err1 != nil || err2 != nil {
				t.Fatalf("%v %v (%s)", err1, err2, exportHint)
			}
			inf := models.NewInference(r)
			xn := tensor.FromNCHW(x)
			out := make([]float32, xn.Dim(0)*inf.FeatureDim())
			inf.Forward(xn, out)
			if e := relErr(tensor.FromSlice(out, want.Shape()...), want); e > 1e-4 {
				t.Errorf("features differ from PyTorch: relative error %.3g > 1e-4", e)
			}
		})
	}
}
