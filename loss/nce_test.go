package loss

import (
	"encoding/binary"
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

const nceFixture = "testdata/nce.safetensors"

const regenNCE = "re-run: /usr/bin/python3 tools/gen_nce_fixtures.py"

// nceLoops is lemniscate.pytorch's NCECriterion transcribed loop by loop in
// float64: P = exp(s/τ)/Z, P_n = 1/N,
// L = −(1/B) Σ_b [log(P_pos/(P_pos + m·P_n)) + Σ_k log(m·P_n/(P_k + m·P_n))].
func nceLoops(v, pos, noise *tensor.Tensor, tau, logZ float64, n int) float64 {
	b, d, m := v.Dim(0), v.Dim(1), noise.Dim(0)
	dot := func(x, y []float32) float64 {
		var s float64
		for j := range x {
			s += float64(x[j]) * float64(y[j])
		}
		return s
	}
	z := math.Exp(logZ)
	mpn := float64(m) / float64(n)
	var l float64
	for i := 0; i < b; i++ {
		vi := v.Data[i*d : (i+1)*d]
		p := math.Exp(dot(vi, pos.Data[i*d:(i+1)*d])/tau) / z
		l += math.Log(p / (p + mpn))
		for k := 0; k < m; k++ {
			pk := math.Exp(dot(vi, noise.Data[k*d:(k+1)*d])/tau) / z
			l += math.Log(mpn / (pk + mpn))
		}
	}
	return -l / float64(b)
}

// unitRows returns a [rows, d] tensor of random unit rows.
func unitRows(rng *rand.Rand, rows, d int) *tensor.Tensor {
	t := randn(rng, rows, d)
	for r := 0; r < rows; r++ {
		row := t.Data[r*d : (r+1)*d]
		var ss float64
		for _, x := range row {
			ss += float64(x) * float64(x)
		}
		for j := range row {
			row[j] = float32(float64(row[j]) / math.Sqrt(ss))
		}
	}
	return t
}

// f64 reads a float64 tensor of the fixture at full precision.
func f64(t *testing.T, f *safetensors.File, name string) []float64 {
	t.Helper()
	e, ok := f.Entries[name]
	if !ok || e.DType != "F64" {
		t.Fatalf("%s: no F64 tensor %q (%s)", nceFixture, name, regenNCE)
	}
	out := make([]float64, len(e.Data)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(e.Data[8*i:]))
	}
	return out
}

func TestNCEMatchesPyTorch(t *testing.T) {
	f, err := safetensors.Read(nceFixture)
	if err != nil {
		t.Fatalf("%v (%s)", err, regenNCE)
	}
	if f.Metadata["producer"] != "tools/gen_nce_fixtures.py" || f.Metadata["cases"] == "" {
		t.Fatalf("%s: bad metadata %v (%s)", nceFixture, f.Metadata, regenNCE)
	}
	get := func(name string) *tensor.Tensor {
		x, err := f.Float32(name)
		if err != nil {
			t.Fatalf("%s: %v (%s)", nceFixture, err, regenNCE)
		}
		return x
	}
	for _, key := range strings.Split(f.Metadata["cases"], ",") {
		t.Run(key, func(t *testing.T) {
			v, pos, noise, bank := get(key+".v"), get(key+".pos"), get(key+".noise"), get(key+".bank")
			idx, err := f.Ints(key + ".idx")
			if err != nil {
				t.Fatalf("%s: %v (%s)", nceFixture, err, regenNCE)
			}
			p := f64(t, f, key+".params")
			tau, n, lambda := float32(p[0]), int(p[1]), float32(p[2])
			wantLogZ := f64(t, f, key+".log_z")[0]
			logZ := NCELogZ(v, pos, noise, tau, n)
			if math.Abs(logZ-wantLogZ) > 1e-5*math.Max(1, math.Abs(wantLogZ)) {
				t.Errorf("log Z %.8g, PyTorch %.8g", logZ, wantLogZ)
			}
			if o := nceLoops(v, pos, noise, p[0], wantLogZ, n); math.Abs(o-f64(t, f, key+".nce")[0]) > 1e-9*math.Max(1, o) {
				t.Errorf("loop oracle %.10g, PyTorch %.10g", o, f64(t, f, key+".nce")[0])
			}
			for _, c := range []struct {
				name string
				fn   func(x *autograd.Value) *autograd.Value
			}{
				{"nce", func(x *autograd.Value) *autograd.Value {
					return NCE(x, autograd.Const(pos), autograd.Const(noise), tau, wantLogZ, n)
				}},
				{"softmax", func(x *autograd.Value) *autograd.Value {
					return InfoNCE(x, autograd.Const(pos), autograd.Const(noise), tau)
				}},
				{"full", func(x *autograd.Value) *autograd.Value {
					return NonParametricSoftmax(x, autograd.Const(bank), idx, tau)
				}},
				{"proximal", func(x *autograd.Value) *autograd.Value {
					return Proximal(x, autograd.Const(pos), lambda)
				}},
			} {
				x := autograd.Param(v.Clone())
				l := c.fn(x)
				got := float64(l.Item())
				autograd.Backward(l)
				want := f64(t, f, key+"."+c.name)[0]
				if math.Abs(got-want) > 2e-5*math.Max(1, math.Abs(want)) {
					t.Errorf("%s: loss %.7g, PyTorch %.7g", c.name, got, want)
				}
				g := get(key + "." + c.name + "_grad")
				tol := 2e-5 * math.Max(1, maxAbs(g))
				if d := tensor.MaxAbsDiff(x.Grad, g); d > tol {
					t.Errorf("%s: grad differs from PyTorch by %.3g (tolerance %.3g)", c.name, d, tol)
				}
				autograd.Free(l)
			}
		})
	}
}

func maxAbs(t *tensor.Tensor) float64 {
	var m float64
	for _, x := range t.Data {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

// TestNCEOracle compares NCE with the loop oracle on edge sizes (one
// sample, one noise row, batches 15/16/17) with Z estimated by NCELogZ.
func TestNCEOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct {
		b, m, d, n int
		tau        float32
	}{{1, 1, 3, 5, 0.5}, {2, 1, 4, 2, 0.07}, {15, 7, 8, 100, 0.1}, {16, 16, 8, 16, 0.07}, {17, 40, 12, 60000, 0.2}, {64, 256, 128, 50000, 0.07}} {
		v, pos, noise := unitRows(rng, c.b, c.d), unitRows(rng, c.b, c.d), unitRows(rng, c.m, c.d)
		logZ := NCELogZ(v, pos, noise, c.tau, c.n)
		var got float32
		autograd.NoGrad(func() {
			got = NCE(autograd.Const(v), autograd.Const(pos), autograd.Const(noise), c.tau, logZ, c.n).Item()
		})
		want := nceLoops(v, pos, noise, float64(c.tau), logZ, c.n)
		if math.Abs(float64(got)-want) > 2e-5*math.Max(1, want) {
			t.Errorf("B=%d m=%d τ=%v: %.7g, oracle %.7g", c.b, c.m, c.tau, got, want)
		}
	}
}

// TestNCEClosedForm: when every score is equal, the estimated Z is
// N·exp(s/τ), so every posterior is h = 1/(1+m) and
// L = −log(1/(1+m)) − m·log(m/(1+m)) = (1+m)·log(1+m) − m·log m.
func TestNCEClosedForm(t *testing.T) {
	for _, m := range []int{1, 3, 64, 4096} {
		v := tensor.Full(0.5, 2, 4)
		noise := tensor.Full(0.5, m, 4)
		logZ := NCELogZ(v, v, noise, 0.07, 1000)
		if want := math.Log(1000) + 1/0.07; math.Abs(logZ-want) > 1e-4 {
			t.Errorf("m=%d: log Z %.7g, want log N + s/τ = %.7g", m, logZ, want)
		}
		var got float32
		autograd.NoGrad(func() {
			got = NCE(autograd.Const(v), autograd.Const(v), autograd.Const(noise), 0.07, logZ, 1000).Item()
		})
		fm := float64(m)
		want := (1+fm)*math.Log(1+fm) - fm*math.Log(fm)
		if math.Abs(float64(got)-want) > 1e-4*math.Max(1, want) {
			t.Errorf("m=%d: %.7g, want (1+m)log(1+m) − m log m = %.7g", m, got, want)
		}
	}
}

func TestNCEGradcheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	pos, noise := unitRows(rng, 3, 5), unitRows(rng, 6, 5)
	v := unitRows(rng, 3, 5)
	logZ := NCELogZ(v, pos, noise, 0.5, 20)
	for name, f := range map[string]func(in []*autograd.Value) *autograd.Value{
		"NCE": func(in []*autograd.Value) *autograd.Value {
			return NCE(in[0], autograd.Const(pos), autograd.Const(noise), 0.5, logZ, 20)
		},
		"NonParametricSoftmax": func(in []*autograd.Value) *autograd.Value {
			return NonParametricSoftmax(in[0], autograd.Const(noise), []int{4, 0, 4}, 0.5)
		},
		"Proximal": func(in []*autograd.Value) *autograd.Value { return Proximal(in[0], autograd.Const(pos), 3) },
	} {
		if err := gradcheck.Check(f, []*tensor.Tensor{v.Clone()}, gradcheck.Options{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestNCEDescends takes 20 gradient steps on free embeddings (normalised
// in the graph, as the methods do) against a fixed bank.
func TestNCEDescends(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	pos, noise := autograd.Const(unitRows(rng, 8, 16)), autograd.Const(unitRows(rng, 64, 16))
	w := autograd.Param(randn(rng, 8, 16))
	logZ := NCELogZ(unitRows(rng, 8, 16), pos.Data, noise.Data, 0.1, 1000)
	var first, last float32
	for step := 0; step < 20; step++ {
		l := NCE(autograd.L2Normalize(w, 1e-12), pos, noise, 0.1, logZ, 1000)
		if step == 0 {
			first = l.Item()
		}
		last = l.Item()
		autograd.Backward(l)
		for i := range w.Data.Data {
			w.Data.Data[i] -= 0.5 * w.Grad.Data[i]
		}
		w.ZeroGrad()
		autograd.Free(l)
	}
	if !(last < 0.8*first) {
		t.Errorf("loss %v → %v after 20 steps, want a drop of at least 20%%", first, last)
	}
}

func TestNCEPanics(t *testing.T) {
	ok := tensor.New(2, 3)
	for i, f := range []func(){
		func() { NCE(autograd.Const(ok), autograd.Const(tensor.New(3, 3)), autograd.Const(ok), 0.1, 0, 10) },
		func() { NCE(autograd.Const(ok), autograd.Const(ok), autograd.Const(tensor.New(4, 2)), 0.1, 0, 10) },
		func() { NCE(autograd.Const(ok), autograd.Const(ok), autograd.Const(ok), 0, 0, 10) },
		func() { NCE(autograd.Const(ok), autograd.Const(ok), autograd.Const(ok), 0.1, math.NaN(), 10) },
		func() { NCE(autograd.Const(ok), autograd.Const(ok), autograd.Const(ok), 0.1, 0, 0) },
		func() { NCELogZ(ok, ok, tensor.New(0, 3), 0.1, 10) },
		func() { NonParametricSoftmax(autograd.Const(ok), autograd.Const(ok), []int{0}, 0.1) },
		func() { Proximal(autograd.Const(ok), autograd.Const(tensor.New(2, 4)), 1) },
		func() { Proximal(autograd.Const(ok), autograd.Const(ok), -1) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "loss.") {
					t.Errorf("case %d: panic %v, want one naming the loss", i, r)
				}
			}()
			f()
		}()
	}
}
