package loss

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/autograd/gradcheck"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/tensor"
)

const ntxentFixture = "testdata/ntxent.safetensors"

const regen = "re-run: /usr/bin/python3 tools/gen_loss_fixtures.py"

// ntxentLoops is SimCLR's Algorithm 1 transcribed loop by loop, in float64:
// s_{i,j} = z_iᵀz_j/(‖z_i‖‖z_j‖) over the 2N views ordered z1 then z2, and
// L = 1/(2N) Σ_k [ℓ(k, k+N) + ℓ(k+N, k)].
func ntxentLoops(z1, z2 *tensor.Tensor, tau float64) float64 {
	n, d := z1.Dim(0), z1.Dim(1)
	z := make([][]float64, 2*n)
	for i := 0; i < 2*n; i++ {
		src := z1
		r := i
		if i >= n {
			src, r = z2, i-n
		}
		z[i] = make([]float64, d)
		var norm float64
		for j := 0; j < d; j++ {
			z[i][j] = float64(src.Data[r*d+j])
			norm += z[i][j] * z[i][j]
		}
		norm = math.Max(math.Sqrt(norm), 1e-12)
		for j := range z[i] {
			z[i][j] /= norm
		}
	}
	sim := func(i, j int) float64 {
		var s float64
		for k := 0; k < d; k++ {
			s += z[i][k] * z[j][k]
		}
		return s
	}
	ell := func(i, j int) float64 {
		var den float64
		for k := 0; k < 2*n; k++ {
			if k != i {
				den += math.Exp(sim(i, k) / tau)
			}
		}
		return -math.Log(math.Exp(sim(i, j)/tau) / den)
	}
	var l float64
	for k := 0; k < n; k++ {
		l += ell(k, k+n) + ell(k+n, k)
	}
	return l / float64(2*n)
}

func randn(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64())
	}
	return t
}

func TestNTXentMatchesPyTorch(t *testing.T) {
	f, err := safetensors.Read(ntxentFixture)
	if err != nil {
		t.Fatalf("%v (%s)", err, regen)
	}
	if f.Metadata["producer"] != "tools/gen_loss_fixtures.py" || f.Metadata["cases"] == "" {
		t.Fatalf("%s: bad metadata %v (%s)", ntxentFixture, f.Metadata, regen)
	}
	get := func(name string) *tensor.Tensor {
		x, err := f.Float32(name)
		if err != nil {
			t.Fatalf("%s: %v (%s)", ntxentFixture, err, regen)
		}
		return x
	}
	for _, key := range strings.Split(f.Metadata["cases"], ",") {
		t.Run(key, func(t *testing.T) {
			z1, z2 := autograd.Param(get(key+".z1")), autograd.Param(get(key+".z2"))
			tau := get(key + ".tau").Data[0]
			want := get(key + ".loss").Data[0]
			l := NTXent(z1, z2, tau)
			got := l.Item()
			autograd.Backward(l)
			if math.Abs(float64(got-want)) > 1e-5*math.Max(1, math.Abs(float64(want))) {
				t.Errorf("loss %.7g, PyTorch %.7g", got, want)
			}
			if o := ntxentLoops(z1.Data, z2.Data, float64(tau)); math.Abs(o-float64(want)) > 1e-5*math.Max(1, o) {
				t.Errorf("loop oracle %.7g, PyTorch %.7g", o, want)
			}
			for i, v := range []*autograd.Value{z1, z2} {
				g := get(fmt.Sprintf("%s.grad_z%d", key, i+1))
				if d := tensor.MaxAbsDiff(v.Grad, g); d > 2e-5 {
					t.Errorf("grad z%d differs from PyTorch by %.3g", i+1, d)
				}
			}
			autograd.Free(l)
		})
	}
}

// TestNTXentOracle compares with the loop-by-loop oracle on edge sizes
// (batch 1, 15, 16, 17) and checks the symmetry L(z1, z2) = L(z2, z1).
func TestNTXentOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		n, d int
		tau  float32
	}{{1, 3, 0.5}, {2, 1, 0.5}, {15, 8, 0.1}, {16, 8, 0.07}, {17, 12, 1}, {64, 128, 0.5}} {
		z1, z2 := randn(rng, c.n, c.d), randn(rng, c.n, c.d)
		var got, swapped float32
		autograd.NoGrad(func() {
			got = NTXent(autograd.Const(z1), autograd.Const(z2), c.tau).Item()
			swapped = NTXent(autograd.Const(z2), autograd.Const(z1), c.tau).Item()
		})
		want := ntxentLoops(z1, z2, float64(c.tau))
		if math.Abs(float64(got)-want) > 2e-5*math.Max(1, want) {
			t.Errorf("N=%d D=%d τ=%v: %.7g, oracle %.7g", c.n, c.d, c.tau, got, want)
		}
		if math.Abs(float64(got-swapped)) > 1e-5*math.Max(1, want) {
			t.Errorf("N=%d: not symmetric: %.7g vs %.7g", c.n, got, swapped)
		}
	}
}

// TestNTXentClosedForm: 2N identical embeddings give every row 2N−1 equal
// logits, so L = log(2N−1); one pair (N = 1) has no negatives: L = 0.
func TestNTXentClosedForm(t *testing.T) {
	for _, n := range []int{1, 2, 8, 33} {
		z := tensor.Full(0.3, n, 4)
		var got float32
		autograd.NoGrad(func() { got = NTXent(autograd.Const(z), autograd.Const(z), 0.5).Item() })
		want := math.Log(float64(2*n - 1))
		if math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("N=%d: %.7g, want log(2N-1) = %.7g", n, got, want)
		}
	}
}

func TestNTXentGradcheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	in := []*tensor.Tensor{randn(rng, 3, 4), randn(rng, 3, 4)}
	err := gradcheck.Check(func(v []*autograd.Value) *autograd.Value { return NTXent(v[0], v[1], 0.5) }, in, gradcheck.Options{})
	if err != nil {
		t.Error(err)
	}
}

// TestNTXentDescends takes 20 gradient steps directly on the embeddings.
func TestNTXentDescends(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	z1, z2 := autograd.Param(randn(rng, 8, 16)), autograd.Param(randn(rng, 8, 16))
	var first, last float32
	for step := 0; step < 20; step++ {
		l := NTXent(z1, z2, 0.5)
		if step == 0 {
			first = l.Item()
		}
		last = l.Item()
		autograd.Backward(l)
		for _, v := range []*autograd.Value{z1, z2} {
			for i := range v.Data.Data {
				v.Data.Data[i] -= 2 * v.Grad.Data[i]
			}
			v.ZeroGrad()
		}
		autograd.Free(l)
	}
	if !(last < 0.8*first) {
		t.Errorf("loss %v → %v after 20 steps, want a drop of at least 20%%", first, last)
	}
}

func TestNTXentPanics(t *testing.T) {
	for _, c := range []struct {
		a, b *tensor.Tensor
		tau  float32
	}{
		{tensor.New(2, 3), tensor.New(3, 3), 0.5},
		{tensor.New(2, 3), tensor.New(2, 3), 0},
		{tensor.New(6), tensor.New(6), 0.5},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "loss.NTXent") {
					t.Errorf("%v %v τ=%v: panic %v", c.a.Shape(), c.b.Shape(), c.tau, r)
				}
			}()
			NTXent(autograd.Const(c.a), autograd.Const(c.b), c.tau)
		}()
	}
}
