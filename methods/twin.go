package methods

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// twinNet is what Barlow Twins and VICReg share: the encoder and a
// 3-layer projector (BN and ReLU after the first two layers) of width
// wideDim(dim, feature) applied to both views in one batch, with no
// state beyond the weights. The projector is the checkpoint's
// "projector" child for both.
type twinNet struct {
	name      string
	encoder   *models.ResNet
	projector *nn.Sequential
	root      *model
	input     *tensor.Tensor
}

func newTwinNet(name string, cfg Config, dim int, seed uint64) (twinNet, error) {
	rng := newRNG(seed)
	enc, err := models.NewResNet(cfg.Encoder, rng)
	if err != nil {
		return twinNet{}, fmt.Errorf("%s: %w", name, err)
	}
	d := wideDim(dim, enc.FeatureDim())
	proj := nn.MLP(nn.MLPSpec{Dims: []int{enc.FeatureDim(), d, d, d}, HiddenBN: true}, rng)
	root := newModel(nn.Child{Name: "", Module: enc}, nn.Child{Name: "projector", Module: proj})
	return twinNet{name: name, encoder: enc, projector: proj, root: root}, nil
}

func (t *twinNet) Name() string                                { return t.name }
func (t *twinNet) Model() nn.Module                            { return t.root }
func (t *twinNet) Encoder() *models.ResNet                     { return t.encoder }
func (t *twinNet) AfterStep(int)                               {}
func (t *twinNet) State() map[string]*tensor.Tensor            { return nil }
func (t *twinNet) LoadState(s map[string]*tensor.Tensor) error { return noState(t.name, s) }

// embedPair projects the batch's two views in one forward pass and
// returns their embeddings [N, d] each.
func (t *twinNet) embedPair(b Batch) (z1, z2 *autograd.Value) {
	v1, v2 := twoViews(t.name, b)
	n := v1.Dim(0)
	t.input = stackInto(t.input, v1, v2)
	z := t.projector.Forward(t.encoder.Forward(autograd.Const(t.input)))
	return autograd.SliceAxis(z, 0, 0, n), autograd.SliceAxis(z, 0, n, 2*n)
}
