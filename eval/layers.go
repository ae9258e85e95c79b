package eval

import (
	"fmt"
	"strings"

	"contrastive/augment"
	"contrastive/autograd"
	"contrastive/data"
	"contrastive/models"
	"contrastive/nn"
	"contrastive/tensor"
)

// Layer names accepted by StageForward and FeaturesAt: the average-pooled
// output of one ResNet stage (the survey's res2–res5 are layer1–layer4),
// or "pool", the encoder's own pooled feature (after layer4, the same
// values as layer4).
var Layers = []string{"layer1", "layer2", "layer3", "layer4", "pool"}

// CheckLayer reports whether name is one of Layers ("" means "pool").
func CheckLayer(name string) error {
	if name == "" {
		return nil
	}
	for _, l := range Layers {
		if l == name {
			return nil
		}
	}
	return fmt.Errorf("unknown layer %q (want one of %s)", name, strings.Join(Layers, ", "))
}

// LayerDim is the width of the feature StageForward returns for layer:
// the channel count of that stage.
func LayerDim(enc *models.ResNet, layer string) int {
	cfg := enc.Config()
	d := cfg.FeatureDim()
	switch layer {
	case "layer1":
		return d / 8
	case "layer2":
		return d / 4
	case "layer3":
		return d / 2
	}
	return d
}

// StageForward runs the encoder up to the end of layer and average-pools
// the map: x [N, H, W, C] → [N, LayerDim(layer)]. layer "" or "pool" is
// enc.Forward.
func StageForward(enc *models.ResNet, x *autograd.Value, layer string) *autograd.Value {
	if layer == "" || layer == "pool" || layer == "layer4" {
		return enc.Forward(x)
	}
	for _, s := range enc.Stages() {
		x = s.Forward(x)
		if s.Name == layer {
			return autograd.GlobalAvgPool(x)
		}
	}
	panic(fmt.Sprintf("eval.StageForward: unknown layer %q", layer))
}

// FeaturesAt is Features for the average-pooled output of one stage
// (see Layers): [N, LayerDim(layer)] and the labels.
func FeaturesAt(enc *models.ResNet, ds data.Dataset, batch int, prep func(*augment.Image) *augment.Image, layer string) (*tensor.Tensor, []int, error) {
	if err := CheckLayer(layer); err != nil {
		return nil, nil, err
	}
	nn.SetTraining(enc, false)
	defer nn.SetTraining(enc, true)
	return Embed(ds, batch, prep, func(x *tensor.Tensor, out []float32) {
		autograd.Inference(func(func(*autograd.Value)) {
			copy(out, StageForward(enc, autograd.Const(x), layer).Data.Data)
		})
	}, LayerDim(enc, layer))
}
