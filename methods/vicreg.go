package methods

import (
	"flag"
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// VICRegConfig holds VICReg's own settings (YAML key "vicreg").
type VICRegConfig struct {
	Invariance float64 `yaml:"invariance"` // λ (25)
	Variance   float64 `yaml:"variance"`   // μ (25)
	Covariance float64 `yaml:"covariance"` // ν (1)
	// Dim is the expander's hidden and output width (the paper: 8192; 0:
	// 4× the encoder's feature width).
	Dim int `yaml:"dim,omitempty"`
}

// Defaults sets the paper's λ = μ = 25, ν = 1.
func (c *VICRegConfig) Defaults() { *c = VICRegConfig{Invariance: 25, Variance: 25, Covariance: 1} }

// Flags registers VICReg's command-line flags on fs.
func (c *VICRegConfig) Flags(fs *flag.FlagSet) {
	fs.Float64Var(&c.Invariance, "vicreg-invariance", c.Invariance, "vicreg: weight λ of the invariance (MSE) term")
	fs.Float64Var(&c.Variance, "vicreg-variance", c.Variance, "vicreg: weight μ of the variance term")
	fs.Float64Var(&c.Covariance, "vicreg-covariance", c.Covariance, "vicreg: weight ν of the covariance term")
	fs.IntVar(&c.Dim, "vicreg-dim", c.Dim, "vicreg: expander width (0: 4x the feature width)")
}

// Validate reports invalid settings.
func (c *VICRegConfig) Validate() error {
	if !(c.Invariance >= 0) || !(c.Variance >= 0) || !(c.Covariance >= 0) || c.Dim < 0 {
		return fmt.Errorf("vicreg: weights %v, %v, %v and dim %d must be ≥ 0", c.Invariance, c.Variance, c.Covariance, c.Dim)
	}
	return nil
}

// VICReg is Bardes, Ponce and LeCun, "VICReg: Variance-Invariance-
// Covariance Regularization for Self-Supervised Learning"
// (arXiv:2105.04906): the two views' embeddings are pulled together (MSE)
// while each embedding's per-dimension standard deviation is held above 1
// and its dimensions decorrelated (loss.VICReg). "The expander ... is
// composed of two fully-connected layers with batch normalization and
// ReLU, and a third linear layer" (§4.2).
type VICReg struct {
	twinNet
	cfg Config
	opt VICRegConfig
}

// NewVICReg builds the encoder and the 3-layer expander.
func NewVICReg(cfg Config, seed uint64) (*VICReg, error) {
	cfg.Defaults()
	opt := cfg.Options.VICReg
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	net, err := newTwinNet("vicreg", cfg, opt.Dim, seed)
	if err != nil {
		return nil, err
	}
	return &VICReg{twinNet: net, cfg: cfg, opt: opt}, nil
}

func (m *VICReg) Model() nn.Module                            { return m.root }
func (m *VICReg) AfterStep(int)                               {}
func (m *VICReg) LoadState(s map[string]*tensor.Tensor) error { return noState("vicreg", s) }

// Loss is λ·s + μ·v + ν·c of the two views' expanded embeddings.
func (m *VICReg) Loss(b Batch) *autograd.Value {
	z1, z2 := m.embedPair(b)
	w := loss.VICRegWeights{Invariance: float32(m.opt.Invariance), Variance: float32(m.opt.Variance), Covariance: float32(m.opt.Covariance)}
	return loss.VICReg(z1, z2, w)
}
