package optim

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// LARSConfig configures LARS. Eta is the trust coefficient (0.001 in
// SimCLR and SwAV) and Eps guards the division (1e-8 by default through
// Defaults).
type LARSConfig struct {
	LR          float64
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	Eta         float64
	Eps         float64
	// Exclude selects parameters that get neither weight decay nor the
	// trust-ratio adaptation: plain SGD with momentum
	// (ExcludeBiasAndNorm, as SimCLR and solo-learn do).
	Exclude Exclude
}

// Defaults sets Eta = 0.001, Eps = 1e-8 and Momentum = 0.9 where zero.
func (c *LARSConfig) Defaults() {
	if c.Eta == 0 {
		c.Eta = 0.001
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	if c.Momentum == 0 {
		c.Momentum = 0.9
	}
}

// Validate reports the first invalid field.
func (c LARSConfig) Validate() error {
	if err := checkLR("LARS", c.LR); err != nil {
		return err
	}
	if !(c.Momentum >= 0 && c.Momentum < 1) {
		return fmt.Errorf("optim.LARS: momentum %v, want 0 ≤ momentum < 1", c.Momentum)
	}
	if !(c.WeightDecay >= 0) {
		return fmt.Errorf("optim.LARS: weight decay %v, want ≥ 0", c.WeightDecay)
	}
	if !(c.Eta > 0) {
		return fmt.Errorf("optim.LARS: trust coefficient %v, want > 0", c.Eta)
	}
	if !(c.Eps >= 0) {
		return fmt.Errorf("optim.LARS: eps %v, want ≥ 0", c.Eps)
	}
	return nil
}

// LARS is layer-wise adaptive rate scaling (You et al., arXiv:1708.03888)
// in the form SwAV (apex LARC, clip off) and solo-learn use it: a trust
// ratio scales each layer's update, followed by SGD with momentum. For
// each parameter p with gradient g that is not excluded:
//
//	q ← η·‖p‖ / (‖g‖ + wd·‖p‖ + ε)   (q = 1 when ‖p‖ = 0 or ‖g‖ = 0)
//	g ← q·(g + wd·p)
//
// and then for every parameter
//
//	b ← μ·b + g;  g ← g + μ·b if Nesterov, else b;  p ← p − lr·g
//
// Excluded parameters skip both the decay and the adaptation. SimCLR's
// TensorFlow LARS differs slightly: it divides by ‖g + wd·p‖ and folds
// the learning rate into the momentum buffer; with a constant learning
// rate and wd = 0 the two agree.
type LARS struct {
	cfg    LARSConfig
	params []Param
	buf    []*tensor.Tensor
}

// NewLARS returns a LARS optimizer over params; cfg's zero Eta, Eps and
// Momentum take their defaults.
func NewLARS(params []Param, cfg LARSConfig) (*LARS, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkParams("LARS", params); err != nil {
		return nil, err
	}
	return &LARS{cfg: cfg, params: params, buf: newBuffers(params)}, nil
}

// Step applies one LARS update.
func (l *LARS) Step() {
	lr, mu, nest := float32(l.cfg.LR), float32(l.cfg.Momentum), l.cfg.Nesterov
	for i, p := range l.params {
		if !active(p) {
			continue
		}
		w, g, b := p.Value.Data.Data, p.Value.Grad.Data, l.buf[i].Data
		scale, wd := float32(1), float32(0)
		if !excluded(l.cfg.Exclude, p) {
			pn, gn := norm2(w), norm2(g)
			if pn != 0 && gn != 0 {
				wd = float32(l.cfg.WeightDecay)
				scale = float32(l.cfg.Eta * pn / (gn + l.cfg.WeightDecay*pn + l.cfg.Eps))
			}
		}
		each(len(w), func(lo, hi int) { momentumStep(w, g, b, lo, hi, scale, wd, mu, lr, nest) })
	}
}

// ZeroGrad zeroes the parameters' gradients.
func (l *LARS) ZeroGrad() { zeroGrads(l.params) }

// LR returns the learning rate.
func (l *LARS) LR() float64 { return l.cfg.LR }

// SetLR sets the learning rate.
func (l *LARS) SetLR(lr float64) { l.cfg.LR = lr }

// State returns "momentum_buffer/<param>" for every parameter.
func (l *LARS) State() map[string]*tensor.Tensor {
	st := map[string]*tensor.Tensor{}
	for i, b := range l.buf {
		st["momentum_buffer/"+l.params[i].Name] = b
	}
	return st
}

// LoadState restores the momentum buffers.
func (l *LARS) LoadState(st map[string]*tensor.Tensor) error {
	return loadState("LARS", l.State(), st)
}
