package optim

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/tensor"
)

const fixture = "testdata/optim.safetensors"

func loadFixture(t *testing.T) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read(fixture)
	if err != nil {
		t.Fatalf("%v (re-run: /usr/bin/python3 tools/gen_optim_fixtures.py)", err)
	}
	if f.Metadata["producer"] != "tools/gen_optim_fixtures.py" {
		t.Fatalf("%s: producer %q (re-run: /usr/bin/python3 tools/gen_optim_fixtures.py)", fixture, f.Metadata["producer"])
	}
	return f
}

func get(t *testing.T, f *safetensors.File, name string) *tensor.Tensor {
	t.Helper()
	x, err := f.Float32(name)
	if err != nil {
		t.Fatalf("%s: %v (re-run: /usr/bin/python3 tools/gen_optim_fixtures.py)", fixture, err)
	}
	return x
}

// TestMatchesPyTorch replays the fixture's gradients and learning rates and
// compares every step's parameters with PyTorch's.
func TestMatchesPyTorch(t *testing.T) {
	f := loadFixture(t)
	cases := []struct {
		name string
		make func(ps []Param) (Optimizer, error)
	}{
		{"sgd_plain", func(ps []Param) (Optimizer, error) { return NewSGD(ps, SGDConfig{LR: 0.1}) }},
		{"sgd_momentum", func(ps []Param) (Optimizer, error) {
			return NewSGD(ps, SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01, ExcludeFromDecay: ExcludeBiasAndNorm})
		}},
		{"sgd_nesterov", func(ps []Param) (Optimizer, error) {
			return NewSGD(ps, SGDConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-3})
		}},
		{"adamw", func(ps []Param) (Optimizer, error) {
			return NewAdamW(ps, AdamWConfig{LR: 0.01, WeightDecay: 0.05, ExcludeFromDecay: ExcludeBiasAndNorm})
		}},
		{"lars", func(ps []Param) (Optimizer, error) {
			return NewLARS(ps, LARSConfig{LR: 0.5, Momentum: 0.9, WeightDecay: 1e-2, Eta: 0.02, Exclude: ExcludeBiasAndNorm})
		}},
	}
	gw, gb := get(t, f, "grad.w"), get(t, f, "grad.b")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := autograd.Param(get(t, f, "init.w"))
			b := autograd.Param(get(t, f, "init.b"))
			opt, err := c.make([]Param{{"fc.weight", w}, {"fc.bias", b}})
			if err != nil {
				t.Fatal(err)
			}
			ww, wb, lrs := get(t, f, c.name+".w"), get(t, f, c.name+".b"), get(t, f, c.name+".lr")
			steps := gw.Dim(0)
			for s := 0; s < steps; s++ {
				opt.SetLR(float64(lrs.Data[s]))
				opt.ZeroGrad()
				w.GradBuf().CopyFrom(gw.Slice(s, s+1))
				b.GradBuf().CopyFrom(gb.Slice(s, s+1))
				opt.Step()
				if d := tensor.MaxAbsDiff(w.Data, ww.Slice(s, s+1)); d > 2e-6 {
					t.Errorf("step %d: weight differs from PyTorch by %.3g", s, d)
				}
				if d := tensor.MaxAbsDiff(b.Data, wb.Slice(s, s+1)); d > 2e-6 {
					t.Errorf("step %d: bias differs from PyTorch by %.3g", s, d)
				}
			}
		})
	}
}

// TestStateRoundTrip checks that an optimizer restored from State continues
// exactly like the original.
func TestStateRoundTrip(t *testing.T) {
	for _, kind := range []string{"sgd", "lars", "adamw"} {
		t.Run(kind, func(t *testing.T) {
			mk := func() (Optimizer, *autograd.Value) {
				w := autograd.Param(tensor.FromSlice([]float32{1, -2, 3, 0.5}, 2, 2))
				ps := []Param{{"w", w}}
				var opt Optimizer
				var err error
				switch kind {
				case "sgd":
					opt, err = NewSGD(ps, SGDConfig{LR: 0.1, Momentum: 0.9})
				case "lars":
					opt, err = NewLARS(ps, LARSConfig{LR: 0.1, WeightDecay: 1e-4})
				default:
					opt, err = NewAdamW(ps, AdamWConfig{LR: 0.1})
				}
				if err != nil {
					t.Fatal(err)
				}
				return opt, w
			}
			step := func(opt Optimizer, w *autograd.Value, s int) {
				opt.ZeroGrad()
				g := w.GradBuf()
				for i := range g.Data {
					g.Data[i] = float32(math.Sin(float64(3*s + i)))
				}
				opt.Step()
			}
			a, wa := mk()
			for s := 0; s < 3; s++ {
				step(a, wa, s)
			}
			saved := map[string]*tensor.Tensor{}
			for k, v := range a.State() {
				saved[k] = v.Clone()
			}
			b, wb := mk()
			wb.Data.CopyFrom(wa.Data)
			if err := b.LoadState(saved); err != nil {
				t.Fatal(err)
			}
			for s := 3; s < 6; s++ {
				step(a, wa, s)
				step(b, wb, s)
			}
			if d := tensor.MaxAbsDiff(wa.Data, wb.Data); d != 0 {
				t.Errorf("resumed run differs by %g", d)
			}
		})
	}
}

func TestLoadStateMismatch(t *testing.T) {
	w := autograd.Param(tensor.New(2, 2))
	opt, err := NewSGD([]Param{{"w", w}}, SGDConfig{LR: 0.1, Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	err = opt.LoadState(map[string]*tensor.Tensor{"momentum_buffer/v": tensor.New(2)})
	if err == nil {
		t.Fatal("no error for mismatched state")
	}
	for _, want := range []string{"missing: momentum_buffer/w", "unexpected: momentum_buffer/v"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	err = opt.LoadState(map[string]*tensor.Tensor{"momentum_buffer/w": tensor.New(4)})
	if err == nil || !strings.Contains(err.Error(), "shape mismatch: momentum_buffer/w: saved [4], optimizer [2 2]") {
		t.Errorf("shape error = %v", err)
	}
}

func TestSkipsFrozenAndUnused(t *testing.T) {
	a := autograd.Param(tensor.FromSlice([]float32{1, 2}, 2))
	b := autograd.Param(tensor.FromSlice([]float32{1, 2}, 2)) // no gradient
	c := autograd.Param(tensor.FromSlice([]float32{1, 2}, 2))
	c.GradBuf().Fill(1)
	c.SetRequiresGrad(false)
	a.GradBuf().Fill(1)
	opt, _ := NewSGD([]Param{{"a", a}, {"b", b}, {"c", c}}, SGDConfig{LR: 0.5, WeightDecay: 0.1})
	opt.Step()
	if got := fmt.Sprint(a.Data.Data, b.Data.Data, c.Data.Data); got != "[0.45 1.4] [1 2] [1 2]" {
		t.Errorf("after step: %s", got)
	}
}

func TestConfigErrors(t *testing.T) {
	w := []Param{{"w", autograd.Param(tensor.New(1))}}
	if _, err := NewSGD(w, SGDConfig{LR: -1}); err == nil {
		t.Error("negative LR accepted")
	}
	if _, err := NewSGD(w, SGDConfig{LR: 1, Nesterov: true}); err == nil {
		t.Error("Nesterov without momentum accepted")
	}
	if _, err := NewLARS(w, LARSConfig{LR: 1, Momentum: 1}); err == nil {
		t.Error("momentum 1 accepted")
	}
	if _, err := NewAdamW(w, AdamWConfig{LR: 1, Beta1: 1}); err == nil {
		t.Error("beta1 1 accepted")
	}
	if _, err := NewSGD(append(w, w...), SGDConfig{LR: 1}); err == nil {
		t.Error("duplicate names accepted")
	}
}

func TestWarmupCosine(t *testing.T) {
	s := WarmupCosine{Base: 1, Final: 0.1, Start: 0, WarmupSteps: 10, TotalSteps: 110}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		step int
		want float64
	}{
		{0, 0}, {5, 0.5}, {10, 1}, {60, 0.55}, {110, 0.1}, {1000, 0.1},
		{35, 0.1 + 0.9*(1+math.Cos(math.Pi/4))/2},
	}
	for _, c := range cases {
		if got := s.At(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("At(%d) = %v, want %v", c.step, got, c.want)
		}
	}
	if (WarmupCosine{WarmupSteps: 5, TotalSteps: 4}).Validate() == nil {
		t.Error("warm-up longer than total accepted")
	}
}

func TestCosineMomentum(t *testing.T) {
	c := CosineMomentum{Base: 0.996, Final: 1, TotalSteps: 100}
	for _, x := range []struct {
		k    int
		want float64
	}{{0, 0.996}, {50, 0.998}, {100, 1}, {200, 1}} {
		if got := c.At(x.k); math.Abs(got-x.want) > 1e-12 {
			t.Errorf("At(%d) = %v, want %v", x.k, got, x.want)
		}
	}
	prev := 0.0
	for k := 0; k <= 100; k++ {
		if v := c.At(k); v < prev {
			t.Fatalf("not monotone at %d: %v < %v", k, v, prev)
		} else {
			prev = v
		}
	}
}
