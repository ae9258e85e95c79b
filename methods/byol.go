package methods

import (
	"flag"
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// BYOLConfig holds BYOL's own settings (YAML key "byol").
type BYOLConfig struct {
	// Momentum is τ_base, the target's EMA momentum at the first step; it
	// rises to 1 along a half cosine over the run (the paper: 0.996; the
	// default 0.99 suits runs of a few thousand steps, as solo-learn's
	// CIFAR recipe).
	Momentum float64 `yaml:"momentum"`
	// PredHidden is the predictor's hidden width (0: the projector's).
	PredHidden int `yaml:"pred_hidden,omitempty"`
}

// Defaults sets τ_base = 0.99.
func (c *BYOLConfig) Defaults() { *c = BYOLConfig{Momentum: 0.99} }

// Flags registers BYOL's command-line flags on fs.
func (c *BYOLConfig) Flags(fs *flag.FlagSet) {
	fs.Float64Var(&c.Momentum, "byol-momentum", c.Momentum, "byol: target EMA momentum at the first step, cosine-scheduled to 1 (the paper: 0.996)")
	fs.IntVar(&c.PredHidden, "byol-pred-hidden", c.PredHidden, "byol: predictor hidden width (0: the projector's)")
}

// Validate reports invalid settings.
func (c *BYOLConfig) Validate() error {
	if !(c.Momentum >= 0 && c.Momentum <= 1) {
		return fmt.Errorf("byol: momentum %v, want 0 ≤ τ ≤ 1", c.Momentum)
	}
	if c.PredHidden < 0 {
		return fmt.Errorf("byol: predictor hidden width %d, want ≥ 0", c.PredHidden)
	}
	return nil
}

// BYOL is Bootstrap Your Own Latent (Grill et al., arXiv:2006.07733): an
// online network (encoder f_θ, projector g_θ, predictor q_θ) regresses
// the projection of a target network (f_ξ, g_ξ) that is an exponential
// moving average of the online one, with no negatives. Algorithm 1:
//
//	v, v' = t(x), t'(x)                                  the two views
//	p = q_θ(g_θ(f_θ(v))),  z' = g_ξ(f_ξ(v'))  (and swapped)
//	L = ‖p̄ − z̄'‖² + ‖p̄' − z̄‖²   (loss.BYOL, z' without gradient)
//	θ ← optimizer(θ, ∇θ L)                               the training loop
//	ξ ← τξ + (1 − τ)θ,  τ = 1 − (1−τ_base)(cos(πk/K)+1)/2   AfterStep
//
// The projector and predictor are "a multi-layer perceptron (MLP) ...
// a linear layer with output size 4096 followed by batch normalization,
// rectified linear units (ReLU), and a final linear layer with output
// dimension 256" (§3.3); here hidden = cfg.ProjHidden, output =
// cfg.ProjDim. Both views go through each network as one batch of 2N.
type BYOL struct {
	cfg       Config
	opt       BYOLConfig
	encoder   *models.ResNet
	projector *nn.Sequential
	predictor *nn.Sequential
	root      *model
	target    *target
	tEncoder  *models.ResNet
	tProj     *nn.Sequential
	input     *tensor.Tensor
}

// NewBYOL builds the online and target networks (the target a copy of
// the online encoder and projector).
func NewBYOL(cfg Config, seed uint64) (*BYOL, error) {
	cfg.Defaults()
	opt := cfg.Options.BYOL
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.PredHidden == 0 {
		opt.PredHidden = cfg.ProjHidden
	}
	rng := newRNG(seed)
	m := &BYOL{cfg: cfg, opt: opt}
	var err error
	if m.encoder, err = models.NewResNet(cfg.Encoder, rng); err != nil {
		return nil, fmt.Errorf("byol: %w", err)
	}
	feat := m.encoder.FeatureDim()
	m.projector = nn.MLP(nn.MLPSpec{Dims: []int{feat, cfg.ProjHidden, cfg.ProjDim}, HiddenBN: true}, rng)
	m.predictor = nn.MLP(nn.MLPSpec{Dims: []int{cfg.ProjDim, opt.PredHidden, cfg.ProjDim}, HiddenBN: true}, rng)
	m.root = newModel(nn.Child{Name: "", Module: m.encoder}, nn.Child{Name: "projector", Module: m.projector}, nn.Child{Name: "predictor", Module: m.predictor})
	if m.tEncoder, err = models.NewResNet(cfg.Encoder, rng); err != nil {
		return nil, fmt.Errorf("byol: %w", err)
	}
	m.tProj = nn.MLP(nn.MLPSpec{Dims: []int{feat, cfg.ProjHidden, cfg.ProjDim}, HiddenBN: true}, rng)
	online := newModel(nn.Child{Name: "", Module: m.encoder}, nn.Child{Name: "projector", Module: m.projector})
	tRoot := newModel(nn.Child{Name: "", Module: m.tEncoder}, nn.Child{Name: "projector", Module: m.tProj})
	m.target = newTarget("target.", online, tRoot, opt.Momentum, cfg.TotalSteps)
	return m, nil
}

func (m *BYOL) Name() string            { return "byol" }
func (m *BYOL) Model() nn.Module        { return m.root }
func (m *BYOL) Encoder() *models.ResNet { return m.encoder }

// AfterStep moves the target towards the online network.
func (m *BYOL) AfterStep(step int) { m.target.update(step) }

// State is the target network ("target.*").
func (m *BYOL) State() map[string]*tensor.Tensor {
	s := map[string]*tensor.Tensor{}
	m.target.putState(s)
	return s
}

// LoadState restores the target network exactly.
func (m *BYOL) LoadState(s map[string]*tensor.Tensor) error {
	want := map[string]bool{}
	if err := m.target.loadState("byol", s, want); err != nil {
		return err
	}
	return checkExtra("byol", s, want)
}

// Loss is the symmetrised BYOL loss of the batch's two views.
func (m *BYOL) Loss(b Batch) *autograd.Value {
	v1, v2 := twoViews("byol", b)
	n := v1.Dim(0)
	m.input = stackInto(m.input, v1, v2)
	p := m.predictor.Forward(m.projector.Forward(m.encoder.Forward(autograd.Const(m.input)))) // [2N, D]
	z := m.target.forward(func(x *autograd.Value) *autograd.Value {
		return m.tProj.Forward(m.tEncoder.Forward(x))
	}, m.input) // [2N, D], constant
	p1, p2 := autograd.SliceAxis(p, 0, 0, n), autograd.SliceAxis(p, 0, n, 2*n)
	z1, z2 := autograd.Const(z.Slice(0, n)), autograd.Const(z.Slice(n, 2*n))
	return autograd.Add(loss.BYOL(p1, z2), loss.BYOL(p2, z1))
}
