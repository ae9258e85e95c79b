package methods

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// SupCon is supervised contrastive learning (Khosla et al., "Supervised
// Contrastive Learning", arXiv:2004.11362): SimCLR's architecture (encoder,
// projection MLP, two views per image) with the labels deciding the
// positives: every other view of the same class in the batch
// (loss.SupCon, L^sup_out). It needs a labelled training set. τ is 0.1
// unless cfg.Temperature is set (the paper: 0.1).
type SupCon struct {
	cfg       Config
	tau       float32
	encoder   *models.ResNet
	projector *nn.Sequential
	root      *model
	input     *tensor.Tensor
	labels    []int
}

// NewSupCon builds the encoder and projection head; cfg.NumClasses must
// be known (a labelled dataset).
func NewSupCon(cfg Config, seed uint64) (*SupCon, error) {
	cfg.Defaults()
	if cfg.NumClasses == 0 {
		return nil, fmt.Errorf("supcon: the training data has no labels; supervised contrastive learning needs a labelled dataset")
	}
	m := &SupCon{cfg: cfg, tau: cfg.Temperature}
	if m.tau == 0 {
		m.tau = 0.1
	}
	rng := newRNG(seed)
	var err error
	if m.encoder, err = models.NewResNet(cfg.Encoder, rng); err != nil {
		return nil, fmt.Errorf("supcon: %w", err)
	}
	m.projector = nn.SimCLRProjection(m.encoder.FeatureDim(), cfg.ProjHidden, cfg.ProjDim, true, rng)
	m.root = newModel(nn.Child{Name: "", Module: m.encoder}, nn.Child{Name: "projector", Module: m.projector})
	return m, nil
}

func (m *SupCon) Name() string                                { return "supcon" }
func (m *SupCon) Model() nn.Module                            { return m.root }
func (m *SupCon) Encoder() *models.ResNet                     { return m.encoder }
func (m *SupCon) AfterStep(int)                               {}
func (m *SupCon) State() map[string]*tensor.Tensor            { return nil }
func (m *SupCon) LoadState(s map[string]*tensor.Tensor) error { return noState("supcon", s) }

// Loss is L^sup_out over both views of the batch. It panics when a
// sample has no label.
func (m *SupCon) Loss(b Batch) *autograd.Value {
	v1, v2 := twoViews("supcon", b)
	labels := batchLabels("supcon", b, v1.Dim(0))
	m.input = stackInto(m.input, v1, v2)
	z := m.projector.Forward(m.encoder.Forward(autograd.Const(m.input)))
	return loss.SupCon(z, labels, m.tau)
}

// batchLabels returns b.Labels, checking there are n of them and that
// none is missing (−1).
func batchLabels(method string, b Batch, n int) []int {
	if len(b.Labels) != n {
		panic(fmt.Sprintf("%s: batch of %d images has %d labels", method, n, len(b.Labels)))
	}
	for _, l := range b.Labels {
		if l < 0 {
			panic(fmt.Sprintf("%s: an unlabelled sample in the batch: this method needs every label", method))
		}
	}
	return b.Labels
}
