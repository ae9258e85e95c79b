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

// MoCoV3Config holds MoCo v3's own settings (YAML key "mocov3").
type MoCoV3Config struct {
	// Momentum is m at the first step, cosine-scheduled to 1 over the run
	// (the paper: 0.99 for ResNet-50 with the cosine schedule).
	Momentum float64 `yaml:"momentum"`
}

// Defaults sets m = 0.99.
func (c *MoCoV3Config) Defaults() { *c = MoCoV3Config{Momentum: 0.99} }

// Flags registers MoCo v3's command-line flags on fs.
func (c *MoCoV3Config) Flags(fs *flag.FlagSet) {
	fs.Float64Var(&c.Momentum, "mocov3-momentum", c.Momentum, "mocov3: momentum-encoder momentum at the first step, cosine-scheduled to 1")
}

// Validate reports invalid settings.
func (c *MoCoV3Config) Validate() error {
	if !(c.Momentum >= 0 && c.Momentum <= 1) {
		return fmt.Errorf("mocov3: momentum %v, want 0 ≤ m ≤ 1", c.Momentum)
	}
	return nil
}

// MoCoV3 is the ResNet version of MoCo v3 (Chen, Xie and He, "An Empirical
// Study of Training Self-Supervised Vision Transformers",
// arXiv:2104.02057). Algorithm 1:
//
//	x1, x2 = aug(x), aug(x)
//	q1, q2 = f_q(x1), f_q(x2)    backbone + projection MLP + prediction MLP
//	k1, k2 = f_k(x1), f_k(x2)    momentum backbone + projection MLP
//	loss = ctr(q1, k2) + ctr(q2, k1)   (loss.MoCoV3: in-batch keys, no queue)
//	loss.backward(); update(f_q); f_k = m·f_k + (1−m)·f_q
//
// "the projection head is a 3-layer MLP, and the prediction head is a
// 2-layer MLP. The hidden layers of both MLPs are 4096-d and are with
// ReLU; the output layers of both MLPs are 256-d, without ReLU ... all
// layers in both MLPs have BN" (§4). Here the hidden width is
// cfg.ProjHidden and the output cfg.ProjDim; the output batch norms keep
// their affine parameters (the paper's have none).
type MoCoV3 struct {
	cfg       Config
	opt       MoCoV3Config
	tau       float32
	encoder   *models.ResNet
	projector *nn.Sequential
	predictor *nn.Sequential
	root      *model
	target    *target
	kEncoder  *models.ResNet
	kProj     *nn.Sequential
	input     *tensor.Tensor
}

// NewMoCoV3 builds f_q and its momentum copy f_k; τ is 0.2 unless
// cfg.Temperature is set (the paper: 1.0 for ResNet-50 at batch 4096;
// 0.2 is solo-learn's CIFAR value).
func NewMoCoV3(cfg Config, seed uint64) (*MoCoV3, error) {
	cfg.Defaults()
	opt := cfg.Options.MoCoV3
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	m := &MoCoV3{cfg: cfg, opt: opt, tau: cfg.Temperature}
	if m.tau == 0 {
		m.tau = 0.2
	}
	rng := newRNG(seed)
	var err error
	if m.encoder, err = models.NewResNet(cfg.Encoder, rng); err != nil {
		return nil, fmt.Errorf("mocov3: %w", err)
	}
	feat, h, d := m.encoder.FeatureDim(), cfg.ProjHidden, cfg.ProjDim
	projSpec := nn.MLPSpec{Dims: []int{feat, h, h, d}, HiddenBN: true, OutputBN: true}
	m.projector = nn.MLP(projSpec, rng)
	m.predictor = nn.MLP(nn.MLPSpec{Dims: []int{d, h, d}, HiddenBN: true, OutputBN: true}, rng)
	m.root = newModel(nn.Child{Name: "", Module: m.encoder}, nn.Child{Name: "projector", Module: m.projector}, nn.Child{Name: "predictor", Module: m.predictor})
	if m.kEncoder, err = models.NewResNet(cfg.Encoder, rng); err != nil {
		return nil, fmt.Errorf("mocov3: %w", err)
	}
	m.kProj = nn.MLP(projSpec, rng)
	online := newModel(nn.Child{Name: "", Module: m.encoder}, nn.Child{Name: "projector", Module: m.projector})
	kRoot := newModel(nn.Child{Name: "", Module: m.kEncoder}, nn.Child{Name: "projector", Module: m.kProj})
	m.target = newTarget("momentum_encoder.", online, kRoot, opt.Momentum, cfg.TotalSteps)
	return m, nil
}

func (m *MoCoV3) Name() string            { return "mocov3" }
func (m *MoCoV3) Model() nn.Module        { return m.root }
func (m *MoCoV3) Encoder() *models.ResNet { return m.encoder }

// Temperature returns τ.
func (m *MoCoV3) Temperature() float32 { return m.tau }

// AfterStep is f_k = m·f_k + (1−m)·f_q with the cosine schedule.
func (m *MoCoV3) AfterStep(step int) { m.target.update(step) }

// State is the momentum encoder ("momentum_encoder.*", as builder.py).
func (m *MoCoV3) State() map[string]*tensor.Tensor {
	s := map[string]*tensor.Tensor{}
	m.target.putState(s)
	return s
}

// LoadState restores the momentum encoder exactly.
func (m *MoCoV3) LoadState(s map[string]*tensor.Tensor) error {
	want := map[string]bool{}
	if err := m.target.loadState("mocov3", s, want); err != nil {
		return err
	}
	return checkExtra("mocov3", s, want)
}

// Loss is ctr(q1, k2) + ctr(q2, k1).
func (m *MoCoV3) Loss(b Batch) *autograd.Value {
	v1, v2 := twoViews("mocov3", b)
	n := v1.Dim(0)
	m.input = stackInto(m.input, v1, v2)
	q := m.predictor.Forward(m.projector.Forward(m.encoder.Forward(autograd.Const(m.input))))
	k := m.target.forward(func(x *autograd.Value) *autograd.Value {
		return m.kProj.Forward(m.kEncoder.Forward(x))
	}, m.input)
	q1, q2 := autograd.SliceAxis(q, 0, 0, n), autograd.SliceAxis(q, 0, n, 2*n)
	k1, k2 := autograd.Const(k.Slice(0, n)), autograd.Const(k.Slice(n, 2*n))
	return autograd.Add(loss.MoCoV3(q1, k2, m.tau), loss.MoCoV3(q2, k1, m.tau))
}
