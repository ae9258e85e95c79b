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

// SimSiamConfig holds SimSiam's own settings (YAML key "simsiam").
type SimSiamConfig struct {
	// Dim is the projector's hidden and output width (the paper: 2048; 0:
	// 4× the encoder's feature width).
	Dim int `yaml:"dim,omitempty"`
	// PredHidden is the predictor's bottleneck (the paper: 512 = Dim/4;
	// 0: Dim/4).
	PredHidden int `yaml:"pred_hidden,omitempty"`
}

// Defaults leaves both widths to be sized from the encoder.
func (c *SimSiamConfig) Defaults() { *c = SimSiamConfig{} }

// Flags registers SimSiam's command-line flags on fs.
func (c *SimSiamConfig) Flags(fs *flag.FlagSet) {
	fs.IntVar(&c.Dim, "simsiam-dim", c.Dim, "simsiam: projector width (0: 4x the feature width)")
	fs.IntVar(&c.PredHidden, "simsiam-pred-hidden", c.PredHidden, "simsiam: predictor bottleneck width (0: dim/4)")
}

// Validate reports invalid settings.
func (c *SimSiamConfig) Validate() error {
	if c.Dim < 0 || c.PredHidden < 0 {
		return fmt.Errorf("simsiam: widths %d and %d, want ≥ 0", c.Dim, c.PredHidden)
	}
	return nil
}

// SimSiam is Chen & He, "Exploring Simple Siamese Representation
// Learning" (arXiv:2011.10566). Algorithm 1:
//
//	z1, z2 = f(x1), f(x2)          encoder + projection MLP
//	p1, p2 = h(z1), h(z2)          prediction MLP
//	L = D(p1, z2)/2 + D(p2, z1)/2  D: negative cosine, z detached
//
// "The projection MLP (in f) has BN applied to each fully-connected (fc)
// layer, including its output fc. Its output fc has no ReLU. The hidden fc
// is 2048-d. This MLP has 3 layers. The prediction MLP (h) has BN applied
// to its hidden fc layers. Its output fc does not have BN or ReLU. This
// MLP has 2 layers." The stop-gradient is what prevents collapse (§4.1).
type SimSiam struct {
	cfg       Config
	encoder   *models.ResNet
	projector *nn.Sequential
	predictor *nn.Sequential
	root      *model
	input     *tensor.Tensor
}

// NewSimSiam builds the encoder, the 3-layer projector and the 2-layer
// bottleneck predictor.
func NewSimSiam(cfg Config, seed uint64) (*SimSiam, error) {
	cfg.Defaults()
	opt := cfg.Options.SimSiam
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	rng := newRNG(seed)
	enc, err := models.NewResNet(cfg.Encoder, rng)
	if err != nil {
		return nil, fmt.Errorf("simsiam: %w", err)
	}
	d := wideDim(opt.Dim, enc.FeatureDim())
	ph := opt.PredHidden
	if ph == 0 {
		ph = max(1, d/4)
	}
	m := &SimSiam{cfg: cfg, encoder: enc}
	m.projector = nn.MLP(nn.MLPSpec{Dims: []int{enc.FeatureDim(), d, d, d}, HiddenBN: true, OutputBN: true}, rng)
	m.predictor = nn.MLP(nn.MLPSpec{Dims: []int{d, ph, d}, HiddenBN: true}, rng)
	m.root = newModel(nn.Child{Name: "", Module: enc}, nn.Child{Name: "projector", Module: m.projector}, nn.Child{Name: "predictor", Module: m.predictor})
	return m, nil
}

func (m *SimSiam) Name() string                                { return "simsiam" }
func (m *SimSiam) Model() nn.Module                            { return m.root }
func (m *SimSiam) Encoder() *models.ResNet                     { return m.encoder }
func (m *SimSiam) AfterStep(int)                               {}
func (m *SimSiam) State() map[string]*tensor.Tensor            { return nil }
func (m *SimSiam) LoadState(s map[string]*tensor.Tensor) error { return noState("simsiam", s) }

// Loss is D(p1, sg(z2))/2 + D(p2, sg(z1))/2.
func (m *SimSiam) Loss(b Batch) *autograd.Value {
	v1, v2 := twoViews("simsiam", b)
	n := v1.Dim(0)
	m.input = stackInto(m.input, v1, v2)
	z := m.projector.Forward(m.encoder.Forward(autograd.Const(m.input))) // [2N, D]
	p := m.predictor.Forward(z)
	zs := autograd.Detach(z)
	l1 := loss.NegativeCosine(autograd.SliceAxis(p, 0, 0, n), autograd.SliceAxis(zs, 0, n, 2*n))
	l2 := loss.NegativeCosine(autograd.SliceAxis(p, 0, n, 2*n), autograd.SliceAxis(zs, 0, 0, n))
	return autograd.Scale(autograd.Add(l1, l2), 0.5)
}
