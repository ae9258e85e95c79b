package methods

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// SimCLR is the end-to-end architecture (Chen et al., "A Simple Framework
// for Contrastive Learning of Visual Representations", arXiv:2002.05709).
// Algorithm 1, for a minibatch {x_k} of N images:
//
//	draw two augmentations t, t'          (the loader's two views)
//	h = f(x̃), z = g(h) for all 2N views   (encoder f, projection MLP g)
//	L = NT-Xent over the 2N embeddings: each view's positive is the other
//	    view of its image, the other 2(N-1) views are its negatives
//
// Both views go through the encoder in one forward pass of 2N images, as
// the paper's implementation does, so batch-norm statistics are computed
// over all 2N views.
type SimCLR struct {
	cfg       Config
	encoder   *models.ResNet
	projector *nn.Sequential
	root      *model
	input     *tensor.Tensor // reused stacked-views buffer
	comm      Comm           // the process group (Distribute), nil for one process
}

// NewSimCLR builds the encoder and its projection head g: Linear →
// [BatchNorm] → ReLU → Linear to cfg.ProjDim (128), τ = 0.5 by default
// (the paper's CIFAR setting; 0.1 at large ImageNet batches).
func NewSimCLR(cfg Config, seed uint64) (*SimCLR, error) {
	if cfg.Temperature == 0 {
		cfg.Temperature = 0.5
	}
	rng := newRNG(seed)
	enc, err := models.NewResNet(cfg.Encoder, rng)
	if err != nil {
		return nil, fmt.Errorf("simclr: %w", err)
	}
	proj := nn.SimCLRProjection(enc.FeatureDim(), cfg.ProjHidden, cfg.ProjDim, cfg.ProjBN, rng)
	m := &SimCLR{cfg: cfg, encoder: enc, projector: proj}
	m.root = newModel(nn.Child{Name: "", Module: enc}, nn.Child{Name: "projector", Module: proj})
	return m, nil
}

func (m *SimCLR) Name() string            { return "simclr" }
func (m *SimCLR) Model() nn.Module        { return m.root }
func (m *SimCLR) Encoder() *models.ResNet { return m.encoder }
func (m *SimCLR) AfterStep(int)           {}

// State is empty: SimCLR has no state outside its networks.
func (m *SimCLR) State() map[string]*tensor.Tensor { return nil }

// LoadState accepts only an empty state.
func (m *SimCLR) LoadState(s map[string]*tensor.Tensor) error {
	if len(s) != 0 {
		return fmt.Errorf("simclr: unexpected state tensors (%d)", len(s))
	}
	return nil
}

// Loss returns the NT-Xent loss of the batch's two views.
func (m *SimCLR) Loss(b Batch) *autograd.Value {
	if len(b.Views) != 2 {
		panic(fmt.Sprintf("simclr: want 2 views per image, got %d", len(b.Views)))
	}
	n := b.Views[0].Dim(0)
	m.input = stackInto(m.input, b.Views[0], b.Views[1])
	h := m.encoder.Forward(autograd.Const(m.input)) // [2N, feat]
	z := m.projector.Forward(h)                     // [2N, 128]
	z1 := autograd.SliceAxis(z, 0, 0, n)
	z2 := autograd.SliceAxis(z, 0, n, 2*n)
	if distributed(m.comm) {
		// Every process's embeddings: the negatives of the global batch.
		z1, z2 = m.comm.AllGather(z1), m.comm.AllGather(z2)
	}
	return loss.NTXent(z1, z2, m.cfg.Temperature)
}

// stackInto concatenates equally sized views along the batch axis into dst,
// reallocating dst only when the shape changes.
func stackInto(dst *tensor.Tensor, views ...*tensor.Tensor) *tensor.Tensor {
	s := views[0].Shape()
	n := 0
	for _, v := range views {
		if !tensor.EqualShape(v.Shape()[1:], s[1:]) {
			panic(fmt.Sprintf("methods: view shapes %v and %v differ", s, v.Shape()))
		}
		n += v.Dim(0)
	}
	shape := append([]int{n}, s[1:]...)
	if dst == nil || !tensor.EqualShape(dst.Shape(), shape) {
		dst = tensor.New(shape...)
	}
	off := 0
	for _, v := range views {
		copy(dst.Data[off:], v.Data)
		off += len(v.Data)
	}
	return dst
}
