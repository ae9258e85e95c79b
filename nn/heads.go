package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
)

// MLPSpec describes a projection MLP: one Linear layer between each pair of
// consecutive Dims; every layer but the last is followed by an optional
// BatchNorm1d and a ReLU.
type MLPSpec struct {
	// Dims are the input, hidden and output widths; at least two.
	Dims []int
	// HiddenBN puts a BatchNorm1d after each hidden Linear. Those Linear
	// layers then have no bias, which the batch norm's β would cancel
	// (as lightly's ProjectionHead builds them).
	HiddenBN bool
	// OutputBN puts a BatchNorm1d after the output Linear (SimCLR v2,
	// MoCo v3); that Linear then has no bias.
	OutputBN bool
}

// MLP builds spec as a Sequential whose children are numbered like
// torch.nn.Sequential: for Dims [2048, 2048, 128] without batch norm the
// tensors are "0.weight", "0.bias", "2.weight", "2.bias" (child 1 is the
// ReLU).
func MLP(spec MLPSpec, rng *rand.Rand) *Sequential {
	if len(spec.Dims) < 2 {
		panic(fmt.Sprintf("nn.MLP: need at least 2 dims, got %v", spec.Dims))
	}
	var mods []Module
	for i := 0; i+1 < len(spec.Dims); i++ {
		in, out := spec.Dims[i], spec.Dims[i+1]
		last := i+2 == len(spec.Dims)
		bn := spec.HiddenBN && !last || spec.OutputBN && last
		mods = append(mods, NewLinear(in, out, !bn, rng))
		if bn {
			mods = append(mods, NewBatchNorm(out))
		}
		if !last {
			mods = append(mods, ReLU{})
		}
	}
	return NewSequential(mods...)
}

// LinearProjection is the head of InstDisc (Wu et al., arXiv:1805.01978)
// and PIRL (Misra & van der Maaten, arXiv:1912.01991): a single linear
// layer from the pooled feature to the embedding, 2048→128 for ResNet-50.
// InstDisc: "With 128 features per image, our method requires only 600MB
// storage for a million images". The methods L2-normalise its output.
func LinearProjection(in, out int, rng *rand.Rand) *Sequential {
	return MLP(MLPSpec{Dims: []int{in, out}}, rng)
}

// SimCLRProjection is SimCLR's projection head g (Chen et al.,
// arXiv:2002.05709, Sec. 2.1): "We use a MLP with one hidden layer to
// obtain z_i = g(h_i) = W^(2)σ(W^(1)h_i) where σ is a ReLU non-linearity."
// The paper uses hidden = in (2048) and out = 128. bn adds a BatchNorm1d
// after the hidden layer, as SimCLR's released code and lightly's
// SimCLRProjectionHead do.
func SimCLRProjection(in, hidden, out int, bn bool, rng *rand.Rand) *Sequential {
	return MLP(MLPSpec{Dims: []int{in, hidden, out}, HiddenBN: bn}, rng)
}

// MoCoV2Projection is MoCo v2's head (Chen et al., arXiv:2003.04297):
// "we replace the fc head in MoCo with a 2-layer MLP head (hidden layer
// 2048-d, with ReLU)". The paper uses in = hidden = 2048, out = 128.
func MoCoV2Projection(in, hidden, out int, rng *rand.Rand) *Sequential {
	return MLP(MLPSpec{Dims: []int{in, hidden, out}}, rng)
}

// SwAVProjection is SwAV's projection head (Caron et al.,
// arXiv:2006.09882), as the released code builds it: Linear(in, hidden),
// BatchNorm1d, ReLU, Linear(hidden, out), with hidden = 2048 and out = 128
// for ResNet-50. Its output is L2-normalised and fed to Prototypes.
func SwAVProjection(in, hidden, out int, rng *rand.Rand) *Sequential {
	return MLP(MLPSpec{Dims: []int{in, hidden, out}, HiddenBN: true}, rng)
}

// Prototypes is SwAV's prototype layer (arXiv:2006.09882): K trainable
// prototype vectors c_k ∈ R^d stored as the rows of Weight [K, d], applied
// as a linear layer without bias, so Forward(z) [N, K] holds the scores
// z·c_k. SwAV keeps the prototypes on the unit sphere: call
// NormalizePrototypes after every optimizer step (the released code
// normalises the weight rows at the start of each iteration).
type Prototypes struct {
	Weight *autograd.Value
}

// NewPrototypes returns k prototypes of dimension d, initialised like
// torch.nn.Linear(d, k, bias=False) and then normalised.
func NewPrototypes(d, k int, rng *rand.Rand) *Prototypes {
	p := &Prototypes{Weight: NewLinear(d, k, false, rng).Weight}
	p.NormalizePrototypes()
	return p
}

// Forward returns the scores z·Weightᵀ for z [N, d]: [N, K].
func (p *Prototypes) Forward(z *autograd.Value) *autograd.Value {
	return autograd.Linear(z, p.Weight, nil)
}

// NormalizePrototypes rescales every prototype (row of Weight) to unit L2
// norm, in place and outside the graph. Rows that are all zero stay zero.
func (p *Prototypes) NormalizePrototypes() {
	w := p.Weight.Data
	k, d := w.Dim(0), w.Dim(1)
	for i := 0; i < k; i++ {
		row := w.Data[i*d : (i+1)*d]
		var ss float64
		for _, x := range row {
			ss += float64(x) * float64(x)
		}
		if ss == 0 {
			continue
		}
		inv := float32(1 / math.Sqrt(ss))
		for j := range row {
			row[j] *= inv
		}
	}
}

// Tensors returns "weight".
func (p *Prototypes) Tensors() []Var { return []Var{{Name: "weight", Param: p.Weight}} }

// Children returns nil.
func (p *Prototypes) Children() []Child { return nil }
