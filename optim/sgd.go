package optim

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// SGDConfig configures SGD. WeightDecay is L2 regularisation added to the
// gradient (PyTorch's weight_decay).
type SGDConfig struct {
	LR          float64
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	// ExcludeFromDecay, if set, selects parameters that get no weight
	// decay (ExcludeBiasAndNorm).
	ExcludeFromDecay Exclude
}

// Validate reports the first invalid field.
func (c SGDConfig) Validate() error {
	if err := checkLR("SGD", c.LR); err != nil {
		return err
	}
	if !(c.Momentum >= 0 && c.Momentum < 1) {
		return fmt.Errorf("optim.SGD: momentum %v, want 0 ≤ momentum < 1", c.Momentum)
	}
	if c.Nesterov && c.Momentum == 0 {
		return fmt.Errorf("optim.SGD: Nesterov needs a momentum > 0")
	}
	if !(c.WeightDecay >= 0) {
		return fmt.Errorf("optim.SGD: weight decay %v, want ≥ 0", c.WeightDecay)
	}
	return nil
}

// SGD is torch.optim.SGD with dampening 0. For each parameter p with
// gradient g:
//
//	g ← g + wd·p                 (unless excluded from decay)
//	b ← μ·b + g                  (b starts at 0, so b = g on the first step)
//	g ← g + μ·b if Nesterov, else b
//	p ← p − lr·g
type SGD struct {
	cfg    SGDConfig
	params []Param
	buf    []*tensor.Tensor // nil without momentum
}

// NewSGD returns an SGD optimizer over params.
func NewSGD(params []Param, cfg SGDConfig) (*SGD, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkParams("SGD", params); err != nil {
		return nil, err
	}
	s := &SGD{cfg: cfg, params: params}
	if cfg.Momentum != 0 {
		s.buf = newBuffers(params)
	}
	return s, nil
}

// Step applies one SGD update.
func (s *SGD) Step() {
	lr, mu, nest := float32(s.cfg.LR), float32(s.cfg.Momentum), s.cfg.Nesterov
	for i, p := range s.params {
		if !active(p) {
			continue
		}
		wd := float32(s.cfg.WeightDecay)
		if excluded(s.cfg.ExcludeFromDecay, p) {
			wd = 0
		}
		w, g := p.Value.Data.Data, p.Value.Grad.Data
		var b []float32
		if s.buf != nil {
			b = s.buf[i].Data
		}
		each(len(w), func(lo, hi int) { momentumStep(w, g, b, lo, hi, 1, wd, mu, lr, nest) })
	}
}

// ZeroGrad zeroes the parameters' gradients.
func (s *SGD) ZeroGrad() { zeroGrads(s.params) }

// LR returns the learning rate.
func (s *SGD) LR() float64 { return s.cfg.LR }

// SetLR sets the learning rate.
func (s *SGD) SetLR(lr float64) { s.cfg.LR = lr }

// State returns "momentum_buffer/<param>" for every parameter (nothing
// without momentum).
func (s *SGD) State() map[string]*tensor.Tensor {
	st := map[string]*tensor.Tensor{}
	for i, b := range s.buf {
		st["momentum_buffer/"+s.params[i].Name] = b
	}
	return st
}

// LoadState restores the momentum buffers.
func (s *SGD) LoadState(st map[string]*tensor.Tensor) error {
	return loadState("SGD", s.State(), st)
}

// momentumStep is PyTorch's SGD update over w[lo:hi], shared by SGD and
// LARS (whose trust ratio is scale; 1 for SGD):
//
//	d = scale·(g + wd·w); b = mu·b + d; w -= lr·(nesterov ? d + mu·b : b)
//
// With b nil (no momentum) it is w -= lr·d.
func momentumStep(w, g, b []float32, lo, hi int, scale, wd, mu, lr float32, nest bool) {
	for j := lo; j < hi; j++ {
		d := scale * (g[j] + wd*w[j])
		if b != nil {
			b[j] = mu*b[j] + d
			if nest {
				d += mu * b[j]
			} else {
				d = b[j]
			}
		}
		w[j] -= lr * d
	}
}
