package methods

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Supervised is the baseline every transfer table needs: the encoder and a
// linear classifier trained with cross-entropy on the labels, on the same
// augmented views as the self-supervised methods (both views of each
// image, 2N samples per step). Only the encoder is evaluated, like every
// other method's.
type Supervised struct {
	cfg        Config
	encoder    *models.ResNet
	classifier *nn.Sequential
	root       *model
	input      *tensor.Tensor
	targets    []int
}

// NewSupervised builds the encoder and a Linear(feature, classes) head
// ("fc", as torchvision's); cfg.NumClasses must be known.
func NewSupervised(cfg Config, seed uint64) (*Supervised, error) {
	cfg.Defaults()
	if cfg.NumClasses == 0 {
		return nil, fmt.Errorf("supervised: the training data has no labels; the cross-entropy baseline needs a labelled dataset")
	}
	rng := newRNG(seed)
	enc, err := models.NewResNet(cfg.Encoder, rng)
	if err != nil {
		return nil, fmt.Errorf("supervised: %w", err)
	}
	m := &Supervised{cfg: cfg, encoder: enc}
	m.classifier = nn.LinearProjection(enc.FeatureDim(), cfg.NumClasses, rng)
	m.root = newModel(nn.Child{Name: "", Module: enc}, nn.Child{Name: "fc", Module: m.classifier})
	return m, nil
}

func (m *Supervised) Name() string                                { return "supervised" }
func (m *Supervised) Model() nn.Module                            { return m.root }
func (m *Supervised) Encoder() *models.ResNet                     { return m.encoder }
func (m *Supervised) AfterStep(int)                               {}
func (m *Supervised) State() map[string]*tensor.Tensor            { return nil }
func (m *Supervised) LoadState(s map[string]*tensor.Tensor) error { return noState("supervised", s) }

// Loss is the mean cross-entropy of the classifier over every view.
func (m *Supervised) Loss(b Batch) *autograd.Value {
	if len(b.Views) == 0 {
		panic("supervised: no views")
	}
	n := b.Views[0].Dim(0)
	labels := batchLabels("supervised", b, n)
	m.input = stackInto(m.input, b.Views...)
	m.targets = m.targets[:0]
	for range b.Views {
		m.targets = append(m.targets, labels...)
	}
	logits := m.classifier.Forward(m.encoder.Forward(autograd.Const(m.input)))
	return autograd.CrossEntropy(logits, m.targets)
}
