package eval

import (
	"fmt"
	"slices"
	"strings"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/models"
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

// PooledAt writes the average-pooled output of layer (see Layers; "" or
// "pool" is the encoder's feature) of x [N, H, W, C] to out
// (N·LayerDim values), running the folded network only as far as it needs.
func PooledAt(inf *models.Inference, x *tensor.Tensor, layer string, out []float32) {
	if layer == "" || layer == "pool" {
		layer = "layer4"
	}
	inf.ForwardStages(x, func(m models.StageMap) bool {
		if m.Name != layer {
			return true
		}
		kernels.GlobalAvgPoolForward(m.Data, m.N, m.H*m.W, m.C, out[m.First*m.C:(m.First+m.N)*m.C])
		return false
	})
}

// FeaturesAt is Features for the average-pooled output of one stage
// (see Layers): [N, LayerDim(layer)] and the labels.
func FeaturesAt(enc *models.ResNet, ds data.Dataset, batch int, prep func(*augment.Image) *augment.Image, layer string) (*tensor.Tensor, []int, error) {
	if err := CheckLayer(layer); err != nil {
		return nil, nil, err
	}
	inf := models.NewInference(enc)
	return Embed(ds, batch, prep, func(x *tensor.Tensor, out []float32) {
		PooledAt(inf, x, layer, out)
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
	inf := models.NewInference(enc)
	var pooled []float32
	all, labels, err := Embed(ds, batch, prep, func(x *tensor.Tensor, out []float32) {
		inf.ForwardStages(x, func(m models.StageMap) bool {
			if m.Name == "stem" {
				return true
			}
			pooled = slices.Grow(pooled[:0], m.N*m.C)[:m.N*m.C]
			kernels.GlobalAvgPoolForward(m.Data, m.N, m.H*m.W, m.C, pooled)
			for r := 0; r < m.N; r++ {
				off := (m.First + r) * total
				for i, l := range layers {
					if l == m.Name || (m.Name == "layer4" && (l == "" || l == "pool")) {
						copy(out[off:off+dims[i]], pooled[r*m.C:(r+1)*m.C])
					}
					off += dims[i]
				}
			}
			return true
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
