package models_test

import (
	"flag"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

const exportHint = "re-run: /usr/bin/python3 tools/export_torchvision.py export (see the command in the file's doc)"

// Fixtures written by tools/export_torchvision.py export:
//
//	--arch resnet18 --width 0.0625 --out models/testdata/resnet18_w0.0625_imagenet.safetensors
//	--arch resnet50 --width 0.03125 --stem cifar --in-channels 1 --seed 1 --out models/testdata/resnet50_w0.03125_cifar_in1.safetensors
var torchFixtures = []string{
	"testdata/resnet18_w0.0625_imagenet.safetensors",
	"testdata/resnet50_w0.03125_cifar_in1.safetensors",
}

// relErr returns max|a-b| / max|b|.
func relErr(a, b *tensor.Tensor) float64 {
	m := 0.0
	for _, x := range b.Data {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return tensor.MaxAbsDiff(a, b) / m
}

func configFromMeta(t *testing.T, path string, meta map[string]string) models.Config {
	t.Helper()
	w, err1 := strconv.ParseFloat(meta["width"], 64)
	in, err2 := strconv.Atoi(meta["in_channels"])
	if meta["producer"] != "tools/export_torchvision.py" || err1 != nil || err2 != nil {
		t.Fatalf("%s: bad metadata %v (%s)", path, meta, exportHint)
	}
	return models.Config{Arch: meta["arch"], Stem: meta["stem"], InChannels: in, Width: w}
}

// TestTorchvisionFeatures loads torchvision weights (random, with
// non-trivial batch-norm statistics) and compares eval-mode pooled features
// with PyTorch's on the same input.
func TestTorchvisionFeatures(t *testing.T) {
	for _, path := range torchFixtures {
		t.Run(path, func(t *testing.T) {
			f, err := safetensors.Read(path)
			if err != nil {
				t.Fatalf("%v (%s)", err, exportHint)
			}
			cfg := configFromMeta(t, path, f.Metadata)
			r, err := models.NewResNet(cfg, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			// input.nchw and features are not model tensors.
			if _, err := checkpoint.LoadModel(path, checkpoint.Entries(nn.State(r)), checkpoint.LoadOptions{IgnoreUnexpected: true}); err != nil {
				t.Fatalf("%v (%s)", err, exportHint)
			}
			x, err1 := f.Float32("input.nchw")
			want, err2 := f.Float32("features")
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: %v %v (%s)", path, err1, err2, exportHint)
			}
			nn.SetTraining(r, false)
			var got *tensor.Tensor
			autograd.NoGrad(func() { got = r.Forward(autograd.Const(tensor.FromNCHW(x))).Data })
			if !tensor.SameShape(got, want) {
				t.Fatalf("features %v, PyTorch %v", got.Shape(), want.Shape())
			}
			if e := relErr(got, want); e > 1e-4 {
				t.Errorf("features differ from PyTorch: relative error %.3g > 1e-4", e)
			} else {
				t.Logf("relative error %.3g", e)
			}
		})
	}
}

var torchExport = flag.String("torch-export", "", "write a Go-initialised ResNet-18 (w=0.0625), an input and its features to this file for `tools/export_torchvision.py check`")

// TestExportForTorch writes the file that `tools/export_torchvision.py
// check --arch resnet18 --width 0.0625 --file F` loads into torchvision
// (strict) to confirm the Go → PyTorch direction. It runs only with
// -torch-export=F.
func TestExportForTorch(t *testing.T) {
	if *torchExport == "" {
		t.Skip("set -torch-export=FILE to write a file for tools/export_torchvision.py check")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	r := models.MustResNet(models.Config{Arch: "resnet18", Width: 0.0625}, rng)
	// Train-mode forward passes move the running statistics away from 0/1.
	for i := 0; i < 3; i++ {
		x := tensor.New(4, 32, 32, 3)
		nn.Normal(x, 0.5, 1, rng)
		autograd.NoGrad(func() { r.Forward(autograd.Const(x)) })
	}
	nn.SetTraining(r, false)
	x := tensor.New(2, 3, 32, 32)
	nn.Normal(x, 0, 1, rng)
	var feats *tensor.Tensor
	autograd.NoGrad(func() { feats = r.Forward(autograd.Const(tensor.FromNCHW(x))).Data })
	entries := append(checkpoint.Entries(nn.State(r)),
		checkpoint.Entry{Name: "input.nchw", F32: x}, checkpoint.Entry{Name: "features", F32: feats})
	if err := checkpoint.SaveModel(*torchExport, entries, map[string]string{"producer": "models.TestExportForTorch"}); err != nil {
		t.Fatal(err)
	}
}
