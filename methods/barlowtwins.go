package methods

import (
	"flag"
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// BarlowTwinsConfig holds Barlow Twins' own settings (YAML key
// "barlowtwins").
type BarlowTwinsConfig struct {
	// Lambda weighs the redundancy-reduction (off-diagonal) term (0.0051).
	Lambda float64 `yaml:"lambda"`
	// Dim is the projector's hidden and output width (the paper: 8192; 0:
	// 4× the encoder's feature width).
	Dim int `yaml:"dim,omitempty"`
	// Scale multiplies the loss (1: the paper; solo-learn's CIFAR recipe
	// uses 0.1, which the default follows: with SGD it keeps the first
	// steps' gradients, D(1−C_ii)² summed over the diagonal, in range).
	Scale float64 `yaml:"scale"`
}

// Defaults sets λ = 0.0051 and a loss scale of 0.1.
func (c *BarlowTwinsConfig) Defaults() { *c = BarlowTwinsConfig{Lambda: 0.0051, Scale: 0.1} }

// Flags registers Barlow Twins' command-line flags on fs.
func (c *BarlowTwinsConfig) Flags(fs *flag.FlagSet) {
	fs.Float64Var(&c.Lambda, "barlow-lambda", c.Lambda, "barlowtwins: weight λ of the off-diagonal term")
	fs.IntVar(&c.Dim, "barlow-dim", c.Dim, "barlowtwins: projector width (0: 4x the feature width)")
	fs.Float64Var(&c.Scale, "barlow-scale", c.Scale, "barlowtwins: loss multiplier (the paper: 1)")
}

// Validate reports invalid settings.
func (c *BarlowTwinsConfig) Validate() error {
	if !(c.Lambda >= 0) || c.Dim < 0 || !(c.Scale > 0) {
		return fmt.Errorf("barlowtwins: λ %v, dim %d, scale %v: want λ ≥ 0, dim ≥ 0, scale > 0", c.Lambda, c.Dim, c.Scale)
	}
	return nil
}

// BarlowTwins is Zbontar et al., "Barlow Twins: Self-Supervised Learning
// via Redundancy Reduction" (arXiv:2103.03230): the cross-correlation
// matrix of the two views' standardised embeddings is pushed towards the
// identity (loss.BarlowTwins). "The projector network has three linear
// layers, each with 8192 output units. The first two layers of the
// projector are followed by a batch normalization layer and rectified
// linear units." (§2).
type BarlowTwins struct {
	twinNet
	cfg Config
	opt BarlowTwinsConfig
}

// NewBarlowTwins builds the encoder and the 3-layer projector.
func NewBarlowTwins(cfg Config, seed uint64) (*BarlowTwins, error) {
	cfg.Defaults()
	opt := cfg.Options.BarlowTwins
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	net, err := newTwinNet("barlowtwins", cfg, opt.Dim, seed)
	if err != nil {
		return nil, err
	}
	return &BarlowTwins{twinNet: net, cfg: cfg, opt: opt}, nil
}

func (m *BarlowTwins) Model() nn.Module                            { return m.root }
func (m *BarlowTwins) AfterStep(int)                               {}
func (m *BarlowTwins) LoadState(s map[string]*tensor.Tensor) error { return noState("barlowtwins", s) }

// Loss is Scale·(Σ(1−C_ii)² + λΣ_{i≠j}C_ij²) of the two views.
func (m *BarlowTwins) Loss(b Batch) *autograd.Value {
	z1, z2 := m.embedPair(b)
	l := loss.BarlowTwins(z1, z2, float32(m.opt.Lambda))
	return autograd.Scale(l, float32(m.opt.Scale))
}
