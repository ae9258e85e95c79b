package loss

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/tensor"
)

const sslFixture = "testdata/ssl.safetensors"

const sslRegen = "re-run: /usr/bin/python3 tools/gen_ssl_loss_fixtures.py"

// TestSSLLossesMatchPyTorch checks the losses of BYOL, SimSiam, Barlow
// Twins, VICReg, MoCo v3, DINO, SupCon and cross-entropy against the
// papers' released code run by PyTorch: the value and the gradient of
// every input that gets one.
func TestSSLLossesMatchPyTorch(t *testing.T) {
	f, err := safetensors.Read(sslFixture)
	if err != nil {
		t.Fatalf("%v (%s)", err, sslRegen)
	}
	if f.Metadata["producer"] != "tools/gen_ssl_loss_fixtures.py" || f.Metadata["cases"] == "" {
		t.Fatalf("%s: bad metadata %v (%s)", sslFixture, f.Metadata, sslRegen)
	}
	get := func(name string) *tensor.Tensor {
		x, err := f.Float32(name)
		if err != nil {
			t.Fatalf("%s: %v (%s)", sslFixture, err, sslRegen)
		}
		return x
	}
	ints := func(name string) []int {
		x, err := f.Ints(name)
		if err != nil {
			t.Fatalf("%s: %v (%s)", sslFixture, err, sslRegen)
		}
		return x
	}
	seen := map[string]bool{}
	for _, key := range strings.Split(f.Metadata["cases"], ",") {
		kind, _, _ := strings.Cut(key, "_")
		seen[kind] = true
		t.Run(key, func(t *testing.T) {
			inputs := map[string]*autograd.Value{}
			in := func(name string) *autograd.Value {
				v := autograd.Param(get(key + "." + name))
				inputs[name] = v
				return v
			}
			var l *autograd.Value
			switch kind {
			case "negcos":
				l = NegativeCosine(in("p"), autograd.Const(get(key+".z")))
			case "byol":
				l = BYOL(in("p"), autograd.Const(get(key+".z")))
			case "barlow":
				l = BarlowTwins(in("z1"), in("z2"), get(key + ".lambda").Data[0])
			case "vicreg":
				l = VICReg(in("z1"), in("z2"), VICRegWeights{Invariance: 25, Variance: 25, Covariance: 1})
			case "mocov3":
				l = MoCoV3(in("q"), autograd.Const(get(key+".k")), get(key + ".tau").Data[0])
			case "dino":
				tau := get(key + ".tau").Data
				l = DINO(in("s"), get(key+".teacher"), get(key+".center"), 2, tau[0], tau[1])
			case "supcon":
				l = SupCon(in("z"), ints(key+".labels"), get(key + ".tau").Data[0])
			case "ce":
				l = autograd.CrossEntropy(in("logits"), ints(key+".labels"))
			default:
				t.Fatalf("unknown case kind %q", kind)
			}
			want := get(key + ".loss").Data[0]
			got := l.Item()
			autograd.Backward(l)
			if math.Abs(float64(got-want)) > 2e-5*math.Max(1, math.Abs(float64(want))) {
				t.Errorf("loss %.7g, PyTorch %.7g", got, want)
			}
			for name, v := range inputs {
				g := get(key + ".grad_" + name)
				scale := math.Max(1, maxAbs(g))
				if d := tensor.MaxAbsDiff(v.Grad, g); d > 3e-5*scale {
					t.Errorf("grad %s differs from PyTorch by %.3g (max |grad| %.3g)", name, d, scale)
				}
			}
			autograd.Free(l)
		})
	}
	for _, k := range []string{"negcos", "byol", "barlow", "vicreg", "mocov3", "dino", "supcon", "ce"} {
		if !seen[k] {
			t.Errorf("fixture has no %s case (%s)", k, sslRegen)
		}
	}
}

// TestSSLLossClosedForms checks values that follow from the definitions:
// identical views give BYOL 0 and SimSiam −1; Barlow Twins of identical
// views with decorrelated unit-variance columns is 0; VICReg of identical
// views with unit-variance decorrelated columns is 0; SupCon with every
// label distinct is NT-Xent.
func TestSSLLossClosedForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 1))
	z := randn(rng, 6, 5)
	autograd.NoGrad(func() {
		if got := BYOL(autograd.Const(z), autograd.Const(z)).Item(); math.Abs(float64(got)) > 1e-6 {
			t.Errorf("BYOL(z, z) = %g, want 0", got)
		}
		if got := NegativeCosine(autograd.Const(z), autograd.Const(z)).Item(); math.Abs(float64(got+1)) > 1e-6 {
			t.Errorf("D(z, z) = %g, want -1", got)
		}
		// Columns ±1 in orthogonal sign patterns (Hadamard rows): zero mean,
		// unit biased variance, zero correlation, so C = I.
		h := tensor.FromSlice([]float32{
			1, 1, 1,
			-1, 1, -1,
			1, -1, -1,
			-1, -1, 1,
		}, 4, 3)
		if got := BarlowTwins(autograd.Const(h), autograd.Const(h), 0.5).Item(); math.Abs(float64(got)) > 1e-4 {
			t.Errorf("BarlowTwins(H, H) = %g, want 0", got)
		}
		// Scaled so the unbiased std exceeds 1: no variance penalty, no
		// covariance, no invariance term.
		h2 := tensor.New(4, 3)
		for i, v := range h.Data {
			h2.Data[i] = 2 * v
		}
		if got := VICReg(autograd.Const(h2), autograd.Const(h2), VICRegWeights{25, 25, 1}).Item(); math.Abs(float64(got)) > 1e-4 {
			t.Errorf("VICReg(2H, 2H) = %g, want 0", got)
		}
		z1, z2 := randn(rng, 5, 4), randn(rng, 5, 4)
		labels := []int{0, 1, 2, 3, 4}
		sc := SupCon(autograd.Concat(0, autograd.Const(z1), autograd.Const(z2)), labels, 0.3).Item()
		nt := NTXent(autograd.Const(z1), autograd.Const(z2), 0.3).Item()
		if math.Abs(float64(sc-nt)) > 1e-5 {
			t.Errorf("SupCon with distinct labels %.7g, NT-Xent %.7g", sc, nt)
		}
	})
}

// TestDINOCenter checks the centre update c ← m·c + (1−m)·mean by hand.
func TestDINOCenter(t *testing.T) {
	c := tensor.FromSlice([]float32{1, -1}, 2)
	UpdateCenter(c, tensor.FromSlice([]float32{0, 2, 2, 4}, 2, 2), 0.9)
	if want := []float32{0.9*1 + 0.1*1, 0.9*-1 + 0.1*3}; math.Abs(float64(c.Data[0]-want[0])) > 1e-6 || math.Abs(float64(c.Data[1]-want[1])) > 1e-6 {
		t.Errorf("center %v, want %v", c.Data, want)
	}
}
