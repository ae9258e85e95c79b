package export

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// randomEncoder builds a small ResNet whose batch norms have random
// affine parameters and running statistics, so that evaluation-mode batch
// norm is far from the identity and a wrong mapping shows.
func randomEncoder(t *testing.T, cfg models.Config, seed uint64) *models.ResNet {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	enc, err := models.NewResNet(cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	nn.Walk(enc, func(_ string, m nn.Module) {
		if b, ok := m.(*nn.BatchNorm); ok {
			for i := range b.Weight.Data.Data {
				b.Weight.Data.Data[i] = float32(0.5 + rng.Float64())
				b.Bias.Data.Data[i] = float32(0.2 * rng.NormFloat64())
				b.State.RunningMean.Data[i] = float32(0.2 * rng.NormFloat64())
				b.State.RunningVar.Data[i] = float32(0.5 + 1.5*rng.Float64())
			}
			b.State.NumBatchesTracked = int64(rng.IntN(1000))
		}
	})
	nn.SetTraining(enc, false)
	return enc
}

// features runs enc in evaluation mode on x [N, H, W, C].
func features(enc *models.ResNet, x *tensor.Tensor) []float32 {
	var out []float32
	autograd.Inference(func(func(*autograd.Value)) {
		out = append(out, enc.Forward(autograd.Const(x)).Data.Data...)
	})
	return out
}

func randomInput(n, h, w, c int, seed uint64) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := tensor.New(n, h, w, c)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

func maxAbsDiff(a, b []float32) (d, scale float64) {
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		scale = math.Max(scale, math.Abs(float64(a[i])))
	}
	return d, scale
}

func TestInferConfig(t *testing.T) {
	for _, cfg := range []models.Config{
		{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.25, InChannels: 3},
		{Arch: "resnet34", Stem: models.StemImageNet, Width: 0.125, InChannels: 1},
		{Arch: "resnet50", Stem: models.StemImageNet, Width: 0.25, InChannels: 3},
		{Arch: "resnet101", Stem: models.StemCIFAR, Width: 0.0625, InChannels: 3},
	} {
		enc := models.MustResNet(cfg, rand.New(rand.NewPCG(0, 0)))
		shapes := map[string][]int{}
		for _, e := range nn.State(enc) {
			if e.F32 != nil {
				shapes[e.Name] = e.F32.Shape()
			} else {
				shapes[e.Name] = nil
			}
		}
		got, err := InferConfig(shapes)
		if err != nil {
			t.Fatalf("%+v: %v", cfg, err)
		}
		if got != enc.Config() {
			t.Errorf("inferred %+v, want %+v", got, enc.Config())
		}
	}
	if _, err := InferConfig(map[string][]int{"weight": {3, 3}}); err == nil {
		t.Error("a state without conv1.weight was accepted")
	}
}

func TestTorchvisionRoundTrip(t *testing.T) {
	cfg := models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.125, InChannels: 3}
	enc := randomEncoder(t, cfg, 3)
	path := filepath.Join(t.TempDir(), "enc.safetensors")
	if err := WriteTorchvision(path, enc, []float32{0.5, 0.4, 0.3}, []float32{0.2, 0.25, 0.3}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := ReadTorchvision(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config() != enc.Config() || len(meta.Mean) != 3 || meta.Std[1] != 0.25 {
		t.Fatalf("read back %+v mean %v std %v", got.Config(), meta.Mean, meta.Std)
	}
	nn.SetTraining(got, false)
	x := randomInput(2, 16, 16, 3, 1)
	want := features(enc, x)
	if d, _ := maxAbsDiff(features(got, x), want); d != 0 {
		t.Errorf("features after a round trip differ by %g", d)
	}
	// A torchvision state_dict still carries fc; that is accepted, other
	// extra tensors are not.
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	f.PutFloat32("fc.weight", tensor.New(10, 64))
	f.PutFloat32("fc.bias", tensor.New(10))
	if err := safetensors.Write(path, f); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadTorchvision(path); err != nil {
		t.Errorf("a file with fc: %v", err)
	}
	f.PutFloat32("projector.0.weight", tensor.New(4, 4))
	if err := safetensors.Write(path, f); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadTorchvision(path); err == nil || !strings.Contains(err.Error(), "projector.0.weight") {
		t.Errorf("an extra tensor: err = %v, want it named", err)
	}
	if _, _, err := ReadTorchvision(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file was read")
	}
}

// TestReadTorchvisionFixture loads the file tools/export_torchvision.py
// wrote from PyTorch (its extra input and features tensors removed) and
// compares the features with torchvision's.
func TestReadTorchvisionFixture(t *testing.T) {
	for _, c := range []struct {
		file string
		want models.Config
	}{
		{"resnet18_w0.0625_imagenet.safetensors", models.Config{Arch: "resnet18", Stem: models.StemImageNet, InChannels: 3, Width: 0.0625}},
		{"resnet50_w0.03125_cifar_in1.safetensors", models.Config{Arch: "resnet50", Stem: models.StemCIFAR, InChannels: 1, Width: 0.03125}},
	} {
		t.Run(c.file, func(t *testing.T) { checkFixture(t, "../models/testdata/"+c.file, c.want) })
	}
}

func checkFixture(t *testing.T, src string, wantCfg models.Config) {
	f, err := safetensors.Read(src)
	if err != nil {
		t.Fatalf("fixture %s: %v (re-run tools/export_torchvision.py export)", src, err)
	}
	x, err1 := f.Float32("input.nchw")
	want, err2 := f.Float32("features")
	if err1 != nil || err2 != nil {
		t.Fatalf("fixture: %v %v", err1, err2)
	}
	delete(f.Entries, "input.nchw")
	delete(f.Entries, "features")
	path := filepath.Join(t.TempDir(), "tv.safetensors")
	if err := safetensors.Write(path, f); err != nil {
		t.Fatal(err)
	}
	enc, _, err := ReadTorchvision(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := enc.Config(); c != wantCfg {
		t.Fatalf("inferred %+v, want %+v", c, wantCfg)
	}
	nn.SetTraining(enc, false)
	got := features(enc, nchwToNHWC(x))
	if d, s := maxAbsDiff(got, want.Data); d > 1e-4*max(1, s) {
		t.Errorf("features differ from torchvision's by %g (scale %g)", d, s)
	}
}

func nchwToNHWC(x *tensor.Tensor) *tensor.Tensor {
	n, c, h, w := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	out := tensor.New(n, h, w, c)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for xx := 0; xx < w; xx++ {
					out.Data[((i*h+y)*w+xx)*c+ch] = x.Data[((i*c+ch)*h+y)*w+xx]
				}
			}
		}
	}
	return out
}
