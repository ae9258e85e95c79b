package benchstep

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/optim"
	"github.com/contrastive-ssl/contrastive/tensor"
)

func tiny() Config {
	return Config{Width: 0.0625, Batch: 4, Steps: 2, Size: 16, ProjHidden: 32, ProjDim: 8}
}

func TestRun(t *testing.T) {
	res, err := Run(tiny())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Split) != 7 || res.Split[0].Stage != "stem" || res.Split[6].Stage != "head+loss" {
		t.Errorf("split %+v", res.Split)
	}
	if !(res.ImagesPerSec > 0) || res.EncoderImagesPerSec != 2*res.ImagesPerSec || !(res.StepMS >= res.StepMSMin) {
		t.Errorf("rates: %+v", res)
	}
	if len(res.Loss) != 2 {
		t.Fatalf("losses %v", res.Loss)
	}
	for _, l := range res.Loss {
		// NT-Xent over 2·4 views lies in (0, log(7)·k) for bounded logits; at
		// initialisation it is near log(2N−1) = log 7.
		if math.IsNaN(float64(l)) || l <= 0 || l > 10 {
			t.Errorf("loss %v", l)
		}
	}
	bad := tiny()
	bad.Batch = 1
	if _, err := Run(bad); err == nil {
		t.Error("batch 1 accepted")
	}
}

// TestSegmentedStepIsExact compares the segmented step with a plain one
// (forward, one Backward, SGD) on two identical models.
func TestSegmentedStepIsExact(t *testing.T) {
	build := func() (*models.ResNet, *nn.Sequential, optim.Optimizer) {
		rng := rand.New(rand.NewPCG(1, 2))
		enc := models.MustResNet(models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.0625}, rng)
		head := nn.SimCLRProjection(enc.FeatureDim(), 16, 8, false, rng)
		m := nn.NewNamedSequential(nn.Child{Name: "", Module: enc}, nn.Child{Name: "projector", Module: head})
		opt, err := optim.NewSGD(optim.Params(nn.Params(m)), optim.SGDConfig{LR: 0.1, Momentum: 0.9})
		if err != nil {
			t.Fatal(err)
		}
		return enc, head, opt
	}
	x := tensor.New(8, 16, 16, 3)
	nn.Uniform(x, 0, 1, rand.New(rand.NewPCG(3, 4)))
	encA, headA, optA := build()
	s := &stepper{enc: encA, head: headA, opt: optA, b: 4, tau: 0.5, x: x}
	s.stages = append(encA.Stages(), models.Stage{Name: "head+loss"})
	s.fwd = make([]time.Duration, len(s.stages))
	s.bwd = make([]time.Duration, len(s.stages))
	encB, headB, optB := build()
	for step := 0; step < 2; step++ {
		la := s.step()
		z := headB.Forward(encB.Forward(autograd.Const(x)))
		l := loss.NTXent(autograd.SliceAxis(z, 0, 0, 4), autograd.SliceAxis(z, 0, 4, 8), 0.5)
		lb := l.Item()
		autograd.Backward(l)
		optB.Step()
		optB.ZeroGrad()
		autograd.Free(l)
		if la != lb {
			t.Errorf("step %d: loss %v segmented, %v plain", step, la, lb)
		}
	}
	sa, sb := nn.State(encA), nn.State(encB)
	for i := range sa {
		if sa[i].F32 != nil {
			if d := tensor.MaxAbsDiff(sa[i].F32, sb[i].F32); d > 1e-6 {
				t.Errorf("%s differs by %g", sa[i].Name, d)
			}
		}
	}
}

// TestEmbedFLOPs checks the FLOP count bench embed reports against the
// published figure: torchvision's ResNet-50 at 224 px is 4.09 GMACs
// (8.18 GFLOP) and ResNet-18 1.81 GMACs, convolutions only.
func TestEmbedFLOPs(t *testing.T) {
	for _, c := range []struct {
		arch string
		want float64
	}{{"resnet50", 8.174}, {"resnet18", 3.628}} {
		r := models.MustResNet(models.Config{Arch: c.arch}, rand.New(rand.NewPCG(1, 1)))
		got := models.NewInference(r).FLOPs(224, 224) / 1e9
		if math.Abs(got-c.want) > 0.01 {
			t.Errorf("%s: %.3f GFLOP per 224-px image, want %.3f", c.arch, got, c.want)
		}
	}
}

func TestRunCrops(t *testing.T) {
	cs, err := ParseCrops("2x16, 4x8")
	if err != nil || len(cs) != 2 || cs[1] != (Crop{4, 8}) || CropsString(cs) != "2x16,4x8" {
		t.Fatalf("ParseCrops: %v %v", cs, err)
	}
	for _, bad := range []string{"", "2", "1x32", "2x32,6", "2x4", "0x16"} {
		if _, err := ParseCrops(bad); err == nil {
			t.Errorf("ParseCrops(%q) accepted", bad)
		}
	}
	cfg := tiny()
	cfg.Crops = cs
	res, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 2·16² + 4·8² = 768 pixels against 2·16² = 512.
	if res.Crops != "2x16,4x8" || math.Abs(res.PixelRatio-1.5) > 1e-12 || len(res.GroupFwdMS) != 2 ||
		res.EncoderImagesPerSec != 6*res.ImagesPerSec || !(res.ForwardMS > 0 && res.BackwardMS > 0) {
		t.Errorf("result %+v", res)
	}
	for _, l := range res.Loss {
		// the mean of five NT-Xent terms over 2·4 views, each near log 7 at initialisation
		if math.IsNaN(float64(l)) || l <= 0 || l > 10 {
			t.Errorf("loss %v", l)
		}
	}
}
