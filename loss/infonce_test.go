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

const infonceFixture = "testdata/infonce.safetensors"

const regenMoCo = "re-run: /usr/bin/python3 tools/gen_moco_fixtures.py"

// infonceLoops is MoCo's Eq. 1 transcribed loop by loop, in float64:
// L = 1/N Σ_n −log( exp(q_n·k_n/τ) / (exp(q_n·k_n/τ) + Σ_i exp(q_n·queue_i/τ)) ).
func infonceLoops(q, k, queue *tensor.Tensor, tau float64) float64 {
	n, c, kk := q.Dim(0), q.Dim(1), queue.Dim(0)
	dot := func(a []float32, b []float32) float64 {
		var s float64
		for j := 0; j < c; j++ {
			s += float64(a[j]) * float64(b[j])
		}
		return s
	}
	var l float64
	for i := 0; i < n; i++ {
		qi := q.Data[i*c : (i+1)*c]
		pos := math.Exp(dot(qi, k.Data[i*c:(i+1)*c]) / tau)
		den := pos
		for j := 0; j < kk; j++ {
			den += math.Exp(dot(qi, queue.Data[j*c:(j+1)*c]) / tau)
		}
		l += -math.Log(pos / den)
	}
	return l / float64(n)
}

func TestInfoNCEMatchesPyTorch(t *testing.T) {
	f, err := safetensors.Read(infonceFixture)
	if err != nil {
		t.Fatalf("%v (%s)", err, regenMoCo)
	}
	if f.Metadata["producer"] != "tools/gen_moco_fixtures.py" || f.Metadata["cases"] == "" {
		t.Fatalf("%s: bad metadata %v (%s)", infonceFixture, f.Metadata, regenMoCo)
	}
	get := func(name string) *tensor.Tensor {
		x, err := f.Float32(name)
		if err != nil {
			t.Fatalf("%s: %v (%s)", infonceFixture, err, regenMoCo)
		}
		return x
	}
	cases := strings.Split(f.Metadata["cases"], ",")
	if len(cases) < 6 {
		t.Fatalf("%s: %d cases, want 6 (%s)", infonceFixture, len(cases), regenMoCo)
	}
	for _, key := range cases {
		t.Run(key, func(t *testing.T) {
			q, k, queue := autograd.Param(get(key+".q")), autograd.Param(get(key+".k")), autograd.Param(get(key+".queue"))
			tau := get(key + ".tau").Data[0]
			want := get(key + ".loss").Data[0]
			l := InfoNCE(q, k, queue, tau)
			got := l.Item()
			autograd.Backward(l)
			if math.Abs(float64(got-want)) > 1e-5*math.Max(1, math.Abs(float64(want))) {
				t.Errorf("loss %.7g, PyTorch %.7g (%s)", got, want, regenMoCo)
			}
			if o := infonceLoops(q.Data, k.Data, queue.Data, float64(tau)); math.Abs(o-float64(want)) > 1e-5*math.Max(1, o) {
				t.Errorf("loop oracle %.7g, PyTorch %.7g", o, want)
			}
			for _, c := range []struct {
				name string
				v    *autograd.Value
			}{{"q", q}, {"k", k}, {"queue", queue}} {
				g := get(key + ".grad_" + c.name)
				if d := tensor.MaxAbsDiff(c.v.Grad, g); d > 2e-5 {
					t.Errorf("grad %s differs from PyTorch by %.3g", c.name, d)
				}
			}
			autograd.Free(l)
		})
	}
}

// TestInfoNCEClosedForm: identical embeddings give every row 1+K equal
// logits, so L = log(1+K); orthogonal queue keys give
// L = log(1 + K·exp(−1/τ)) for unit q = k.
func TestInfoNCEClosedForm(t *testing.T) {
	for _, kk := range []int{1, 7, 64} {
		z := tensor.Full(0.5, 4, 4) // unit rows
		u := tensor.Full(0.5, kk, 4)
		var got float32
		autograd.NoGrad(func() { got = InfoNCE(autograd.Const(z), autograd.Const(z), autograd.Const(u), 0.2).Item() })
		if want := math.Log(float64(1 + kk)); math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("K=%d identical: %.7g, want log(1+K) = %.7g", kk, got, want)
		}
	}
	q := tensor.New(1, 4)
	q.Data[0] = 1
	u := tensor.New(3, 4)
	for i := 0; i < 3; i++ {
		u.Data[i*4+i+1] = 1
	}
	var got float32
	autograd.NoGrad(func() { got = InfoNCE(autograd.Const(q), autograd.Const(q), autograd.Const(u), 0.5).Item() })
	if want := math.Log(1 + 3*math.Exp(-2)); math.Abs(float64(got)-want) > 1e-6 {
		t.Errorf("orthogonal queue: %.7g, want %.7g", got, want)
	}
}

func TestInfoNCELogitsLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	q, k, u := randn(rng, 3, 5), randn(rng, 3, 5), randn(rng, 4, 5)
	var logits *tensor.Tensor
	autograd.NoGrad(func() {
		logits = InfoNCELogits(autograd.Const(q), autograd.Const(k), autograd.Const(u), 0.25).Data
	})
	if s := logits.Shape(); len(s) != 2 || s[0] != 3 || s[1] != 5 {
		t.Fatalf("logits shape %v, want [3 5]", s)
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 5; j++ {
			other, row := k, i
			if j > 0 {
				other, row = u, j-1
			}
			var s float64
			for c := 0; c < 5; c++ {
				s += float64(q.Data[i*5+c]) * float64(other.Data[row*5+c])
			}
			if got := float64(logits.Data[i*5+j]); math.Abs(got-s/0.25) > 1e-5 {
				t.Errorf("logits[%d][%d] = %.6g, want %.6g", i, j, got, s/0.25)
			}
		}
	}
}

func TestInfoNCEGradcheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	in := []*tensor.Tensor{randn(rng, 3, 4), randn(rng, 3, 4), randn(rng, 5, 4)}
	err := gradcheck.Check(func(v []*autograd.Value) *autograd.Value { return InfoNCE(v[0], v[1], v[2], 0.5) }, in, gradcheck.Options{})
	if err != nil {
		t.Error(err)
	}
}

// TestInfoNCEDescends takes 20 gradient steps on normalised queries only,
// as MoCo does (keys and queue are constants).
func TestInfoNCEDescends(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	raw := autograd.Param(randn(rng, 8, 16))
	k, u := randn(rng, 8, 16), randn(rng, 32, 16)
	var kn, un *tensor.Tensor
	autograd.NoGrad(func() {
		kn = autograd.L2Normalize(autograd.Const(k), normEps).Data
		un = autograd.L2Normalize(autograd.Const(u), normEps).Data
	})
	var first, last float32
	for step := 0; step < 20; step++ {
		q := autograd.L2Normalize(raw, normEps)
		l := InfoNCE(q, autograd.Const(kn), autograd.Const(un), 0.2)
		if step == 0 {
			first = l.Item()
		}
		last = l.Item()
		autograd.Backward(l)
		for i := range raw.Data.Data {
			raw.Data.Data[i] -= 2 * raw.Grad.Data[i]
		}
		raw.ZeroGrad()
		autograd.Free(l)
	}
	if !(last < 0.5*first) {
		t.Errorf("loss %v → %v after 20 steps, want a drop of at least half", first, last)
	}
}

func TestInfoNCEPanics(t *testing.T) {
	for _, c := range []struct {
		q, k, u *tensor.Tensor
		tau     float32
	}{
		{tensor.New(2, 3), tensor.New(3, 3), tensor.New(4, 3), 0.2},
		{tensor.New(2, 3), tensor.New(2, 3), tensor.New(4, 2), 0.2},
		{tensor.New(2, 3), tensor.New(2, 3), tensor.New(4, 3), 0},
		{tensor.New(6), tensor.New(6), tensor.New(4, 3), 0.2},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "loss.InfoNCE") {
					t.Errorf("q %v k %v queue %v τ=%v: panic %v", c.q.Shape(), c.k.Shape(), c.u.Shape(), c.tau, r)
				}
			}()
			InfoNCE(autograd.Const(c.q), autograd.Const(c.k), autograd.Const(c.u), c.tau)
		}()
	}
}
