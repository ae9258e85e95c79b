package eval

import (
	"fmt"
	"strings"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
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

// FeaturesAtLayers computes the features of several layers (see Layers)
// in one pass over ds: one [N, LayerDim] tensor per layer, in the order
// given, and the labels.
func FeaturesAtLayers(enc *models.ResNet, ds data.Dataset, batch int, prep func(*augment.Image) *augment.Image, layers []string) ([]*tensor.Tensor, []int, error) {
	dims := make([]int, len(layers))
	total := 0
	for i, l := range layers {
		if err := CheckLayer(l); err != nil {
			return nil, nil, err
		}
		dims[i] = LayerDim(enc, l)
		total += dims[i]
	}
	nn.SetTraining(enc, false)
	defer nn.SetTraining(enc, true)
	all, labels, err := Embed(ds, batch, prep, func(x *tensor.Tensor, out []float32) {
		autograd.Inference(func(func(*autograd.Value)) {
			pooled := map[string]*tensor.Tensor{}
			v := autograd.Const(x)
			for _, s := range enc.Stages() {
				v = s.Forward(v)
				if s.Name == "avgpool" {
					pooled["pool"] = v.Data
				} else if len(s.Name) == 6 && s.Name[:5] == "layer" {
					pooled[s.Name] = autograd.GlobalAvgPool(v).Data
				}
			}
			n := x.Dim(0)
			for r := 0; r < n; r++ {
				off := r * total
				for i, l := range layers {
					key := l
					if key == "" {
						key = "pool"
					}
					copy(out[off:off+dims[i]], pooled[key].Data[r*dims[i]:(r+1)*dims[i]])
					off += dims[i]
				}
			}
		})
	}, total)
	if err != nil {
		return nil, nil, err
	}
	n := all.Dim(0)
	outs := make([]*tensor.Tensor, len(layers))
	off := 0
	for i, d := range dims {
		t := tensor.New(n, d)
		for r := 0; r < n; r++ {
			copy(t.Data[r*d:(r+1)*d], all.Data[r*total+off:r*total+off+d])
		}
		outs[i] = t
		off += d
	}
	return outs, labels, nil
}
