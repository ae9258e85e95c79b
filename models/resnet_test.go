package models

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/nn"
)

// Counts from torchvision 0.14 (tools/export_torchvision.py names; fc
// dropped): parameters and BN running-statistics elements.
var torchvisionCounts = []struct {
	arch            string
	params, buffers int
	tensors         int // state_dict entries without fc
}{
	{"resnet18", 11176512, 9600, 120},
	{"resnet34", 21284672, 17024, 216},
	{"resnet50", 23508032, 53120, 318},
}

func bufferElems(m nn.Module) int {
	n := 0
	for _, e := range nn.State(m) {
		if e.F32 != nil && (strings.HasSuffix(e.Name, "running_mean") || strings.HasSuffix(e.Name, "running_var")) {
			n += e.F32.Numel()
		}
	}
	return n
}

func TestParamCountsMatchTorchvision(t *testing.T) {
	for _, c := range torchvisionCounts {
		r := MustResNet(Config{Arch: c.arch}, rand.New(rand.NewPCG(1, 2)))
		if got := nn.NumParams(r); got != c.params {
			t.Errorf("%s: %d parameters, torchvision has %d", c.arch, got, c.params)
		}
		if got := bufferElems(r); got != c.buffers {
			t.Errorf("%s: %d running-stat elements, torchvision has %d", c.arch, got, c.buffers)
		}
		if got := len(nn.State(r)); got != c.tensors {
			t.Errorf("%s: %d state tensors, torchvision has %d", c.arch, got, c.tensors)
		}
	}
}

// TestNamesMatchTorchvision compares names, order and shapes with the list
// written by `tools/export_torchvision.py names`.
func TestNamesMatchTorchvision(t *testing.T) {
	const path = "testdata/torchvision_names.txt"
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (re-run: /usr/bin/python3 tools/export_torchvision.py names --out models/%s)", err, path)
	}
	defer f.Close()
	want := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fields := strings.Fields(line)
		shape := ""
		if len(fields) == 3 {
			shape = fields[2]
		}
		want[fields[0]] = append(want[fields[0]], fields[1]+" "+shape)
	}
	for _, arch := range []string{"resnet18", "resnet34", "resnet50"} {
		if len(want[arch]) == 0 {
			t.Fatalf("%s: no %s entries (re-run tools/export_torchvision.py names)", path, arch)
		}
		r := MustResNet(Config{Arch: arch}, rand.New(rand.NewPCG(1, 2)))
		var got []string
		for _, e := range nn.State(r) {
			shape := ""
			if e.F32 != nil {
				shape = strings.Trim(strings.ReplaceAll(fmt.Sprint(e.F32.Shape()), " ", ","), "[]")
			}
			got = append(got, e.Name+" "+shape)
		}
		if len(got) != len(want[arch]) {
			t.Errorf("%s: %d tensors, torchvision %d", arch, len(got), len(want[arch]))
			continue
		}
		for i := range got {
			if got[i] != want[arch][i] {
				t.Errorf("%s: tensor %d is %q, torchvision %q", arch, i, got[i], want[arch][i])
				break
			}
		}
	}
}

func TestConfigVariants(t *testing.T) {
	cases := []struct {
		cfg        Config
		featureDim int
		conv1      []int
	}{
		{Config{Arch: "resnet18", Stem: StemCIFAR}, 512, []int{64, 3, 3, 3}},
		{Config{Arch: "resnet18", InChannels: 1, Width: 0.25}, 128, []int{16, 1, 7, 7}},
		{Config{Arch: "resnet50", Width: 0.5}, 1024, []int{32, 3, 7, 7}},
		{Config{Arch: "resnet34", Width: 0.1}, 48, []int{6, 3, 7, 7}}, // round(6.4) = 6
		{Config{Arch: "resnet50", Width: 0.001}, 32, []int{1, 3, 7, 7}},
	}
	for _, c := range cases {
		r := MustResNet(c.cfg, rand.New(rand.NewPCG(1, 2)))
		if r.FeatureDim() != c.featureDim {
			t.Errorf("%+v: feature dim %d, want %d", c.cfg, r.FeatureDim(), c.featureDim)
		}
		if got := r.Conv1.Weight.Data.Shape(); fmt.Sprint(got) != fmt.Sprint(c.conv1) {
			t.Errorf("%+v: conv1 %v, want %v", c.cfg, got, c.conv1)
		}
		last := nn.Params(r)
		if n := last[len(last)-1].Value.Data.Numel(); n != c.featureDim {
			t.Errorf("%+v: last parameter has %d elements, want feature dim %d", c.cfg, n, c.featureDim)
		}
	}
	// The CIFAR stem changes only conv1: 64·3·(9-49) fewer parameters.
	in := nn.NumParams(MustResNet(Config{Arch: "resnet18"}, rand.New(rand.NewPCG(1, 2))))
	cf := nn.NumParams(MustResNet(Config{Arch: "resnet18", Stem: StemCIFAR}, rand.New(rand.NewPCG(1, 2))))
	if in-cf != 64*3*40 {
		t.Errorf("imagenet - cifar parameters = %d, want %d", in-cf, 64*3*40)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{Arch: "resnet19"}, {Stem: "tiny"}, {InChannels: -1}, {Width: -0.5}, {Width: 100},
	}
	for _, c := range bad {
		c.Defaults()
		if _, err := NewResNet(c, rand.New(rand.NewPCG(1, 2))); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func TestInit(t *testing.T) {
	r := MustResNet(Config{Arch: "resnet50", ZeroInitResidual: true}, rand.New(rand.NewPCG(3, 4)))
	// kaiming_normal fan_out: std √(2/(OC·K·K)).
	w := r.Layers[3].At(0).(*Bottleneck).Conv2.Weight.Data // [512, 512, 3, 3]
	var ss float64
	for _, x := range w.Data {
		ss += float64(x) * float64(x)
	}
	std, want := ss/float64(len(w.Data)), 2.0/(512*9)
	if std < 0.97*want || std > 1.03*want {
		t.Errorf("conv variance %.4g, want %.4g", std, want)
	}
	b := r.Layers[0].At(1).(*Bottleneck)
	for _, x := range b.BN3.Weight.Data.Data {
		if x != 0 {
			t.Fatalf("zero-init residual: bn3.weight has %v", x)
		}
	}
	for _, x := range b.BN2.Weight.Data.Data {
		if x != 1 {
			t.Fatalf("bn2.weight has %v, want 1", x)
		}
	}
}
