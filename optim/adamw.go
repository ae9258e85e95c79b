package optim

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// AdamWConfig configures AdamW; zero Beta1, Beta2 and Eps take PyTorch's
// defaults 0.9, 0.999 and 1e-8 (Defaults). WeightDecay is decoupled
// (PyTorch's default for AdamW is 0.01; here zero means none).
type AdamWConfig struct {
	LR               float64
	Beta1, Beta2     float64
	Eps              float64
	WeightDecay      float64
	ExcludeFromDecay Exclude
}

// Defaults sets Beta1 = 0.9, Beta2 = 0.999 and Eps = 1e-8 where zero.
func (c *AdamWConfig) Defaults() {
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
}

// Validate reports the first invalid field.
func (c AdamWConfig) Validate() error {
	if err := checkLR("AdamW", c.LR); err != nil {
		return err
	}
	if !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1) {
		return fmt.Errorf("optim.AdamW: betas (%v, %v), want each in [0, 1)", c.Beta1, c.Beta2)
	}
	if !(c.Eps > 0) {
		return fmt.Errorf("optim.AdamW: eps %v, want > 0", c.Eps)
	}
	if !(c.WeightDecay >= 0) {
		return fmt.Errorf("optim.AdamW: weight decay %v, want ≥ 0", c.WeightDecay)
	}
	return nil
}

// AdamW is torch.optim.AdamW (amsgrad off). At step t, for each parameter
// p with gradient g:
//
//	p ← p·(1 − lr·wd)            (unless excluded from decay)
//	m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//	p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
type AdamW struct {
	cfg    AdamWConfig
	params []Param
	m, v   []*tensor.Tensor
	step   *tensor.Tensor // [1]: the number of steps taken, as float32
}

// NewAdamW returns an AdamW optimizer over params.
func NewAdamW(params []Param, cfg AdamWConfig) (*AdamW, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkParams("AdamW", params); err != nil {
		return nil, err
	}
	return &AdamW{cfg: cfg, params: params, m: newBuffers(params), v: newBuffers(params), step: tensor.New(1)}, nil
}

// Step applies one AdamW update.
func (a *AdamW) Step() {
	a.step.Data[0]++
	t := float64(a.step.Data[0])
	lr := a.cfg.LR
	b1, b2 := float32(a.cfg.Beta1), float32(a.cfg.Beta2)
	stepSize := float32(lr / (1 - math.Pow(a.cfg.Beta1, t)))
	invBC2 := float32(1 / math.Sqrt(1-math.Pow(a.cfg.Beta2, t)))
	eps := float32(a.cfg.Eps)
	for i, p := range a.params {
		if !active(p) {
			continue
		}
		decay := float32(1 - lr*a.cfg.WeightDecay)
		if excluded(a.cfg.ExcludeFromDecay, p) {
			decay = 1
		}
		w, g, m, v := p.Value.Data.Data, p.Value.Grad.Data, a.m[i].Data, a.v[i].Data
		each(len(w), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				w[j] *= decay
				m[j] = b1*m[j] + (1-b1)*g[j]
				v[j] = b2*v[j] + (1-b2)*g[j]*g[j]
				w[j] -= stepSize * m[j] / (float32(math.Sqrt(float64(v[j])))*invBC2 + eps)
			}
		})
	}
}

// ZeroGrad zeroes the parameters' gradients.
func (a *AdamW) ZeroGrad() { zeroGrads(a.params) }

// LR returns the learning rate.
func (a *AdamW) LR() float64 { return a.cfg.LR }

// SetLR sets the learning rate.
func (a *AdamW) SetLR(lr float64) { a.cfg.LR = lr }

// State returns "exp_avg/<param>", "exp_avg_sq/<param>" and "step" ([1],
// exact up to 2²⁴ steps).
func (a *AdamW) State() map[string]*tensor.Tensor {
	st := map[string]*tensor.Tensor{"step": a.step}
	for i, p := range a.params {
		st["exp_avg/"+p.Name] = a.m[i]
		st["exp_avg_sq/"+p.Name] = a.v[i]
	}
	return st
}

// LoadState restores the moments and the step count.
func (a *AdamW) LoadState(st map[string]*tensor.Tensor) error {
	return loadState("AdamW", a.State(), st)
}
