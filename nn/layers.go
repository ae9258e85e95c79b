package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Conv2d is a 2-D convolution over NHWC activations with a square kernel,
// symmetric zero padding and equal strides: x [N,H,W,C] → [N,OH,OW,OC].
// Weight is OIHW [OC, C, K, K] as in torchvision; Bias is [OC] or nil.
type Conv2d struct {
	Weight      *autograd.Value
	Bias        *autograd.Value
	Stride, Pad int
}

// NewConv2d returns a convolution initialised like torch.nn.Conv2d:
// kaiming-uniform (a=√5) weight and a U(-1/√fan_in, 1/√fan_in) bias.
func NewConv2d(in, out, kernel, stride, pad int, bias bool, rng *rand.Rand) *Conv2d {
	if in < 1 || out < 1 || kernel < 1 || stride < 1 || pad < 0 {
		panic(fmt.Sprintf("nn.NewConv2d: bad sizes in=%d out=%d kernel=%d stride=%d pad=%d", in, out, kernel, stride, pad))
	}
	w := tensor.New(out, in, kernel, kernel)
	KaimingUniform(w, math.Sqrt(5), rng)
	c := &Conv2d{Weight: autograd.Param(w), Stride: stride, Pad: pad}
	if bias {
		b := tensor.New(out)
		bound := 1 / math.Sqrt(float64(in*kernel*kernel))
		Uniform(b, -bound, bound, rng)
		c.Bias = autograd.Param(b)
	}
	return c
}

// Forward convolves x [N,H,W,C].
func (c *Conv2d) Forward(x *autograd.Value) *autograd.Value {
	return autograd.Conv2d(x, c.Weight, c.Bias, c.Stride, c.Pad)
}

// Tensors returns weight and, if present, bias.
func (c *Conv2d) Tensors() []Var { return weightBias(c.Weight, c.Bias) }

// Children returns nil.
func (c *Conv2d) Children() []Child { return nil }

func weightBias(w, b *autograd.Value) []Var {
	v := []Var{{Name: "weight", Param: w}}
	if b != nil {
		v = append(v, Var{Name: "bias", Param: b})
	}
	return v
}

// BatchNorm normalises over every axis but the last (channels):
// torch.nn.BatchNorm2d on NHWC activations and BatchNorm1d on [N, C].
// Weight (γ) starts at 1, Bias (β) at 0; the running statistics start at
// mean 0, variance 1 with PyTorch's momentum 0.1 and eps 1e-5.
type BatchNorm struct {
	Weight, Bias *autograd.Value // γ, β: [C]
	State        autograd.BatchNormState
	Training     bool
}

// NewBatchNorm returns a batch norm over c channels, in training mode.
func NewBatchNorm(c int) *BatchNorm {
	if c < 1 {
		panic(fmt.Sprintf("nn.NewBatchNorm: %d channels", c))
	}
	return &BatchNorm{
		Weight: autograd.Param(tensor.Full(1, c)),
		Bias:   autograd.Param(tensor.New(c)),
		State: autograd.BatchNormState{
			RunningMean: tensor.New(c),
			RunningVar:  tensor.Full(1, c),
			Momentum:    0.1,
			Eps:         1e-5,
		},
		Training: true,
	}
}

// Forward normalises x [..., C] with batch statistics (training, updating
// the running statistics) or the running statistics (evaluation).
func (b *BatchNorm) Forward(x *autograd.Value) *autograd.Value {
	return autograd.BatchNorm(x, b.Weight, b.Bias, &b.State, b.Training)
}

// ForwardReLU is ReLU(Forward(x)) in one fused op.
func (b *BatchNorm) ForwardReLU(x *autograd.Value) *autograd.Value {
	return autograd.BatchNormReLU(x, b.Weight, b.Bias, &b.State, b.Training)
}

// SetTraining selects batch statistics (true) or running statistics.
func (b *BatchNorm) SetTraining(training bool) { b.Training = training }

// Tensors returns weight, bias, running_mean, running_var and
// num_batches_tracked, torch's names.
func (b *BatchNorm) Tensors() []Var {
	return []Var{
		{Name: "weight", Param: b.Weight},
		{Name: "bias", Param: b.Bias},
		{Name: "running_mean", Buf: b.State.RunningMean},
		{Name: "running_var", Buf: b.State.RunningVar},
		{Name: "num_batches_tracked", Count: &b.State.NumBatchesTracked},
	}
}

// Children returns nil.
func (b *BatchNorm) Children() []Child { return nil }

// Linear computes x·Weightᵀ + Bias for x [..., in]: Weight [out, in],
// Bias [out] or nil.
type Linear struct {
	Weight, Bias *autograd.Value
}

// NewLinear returns a linear layer initialised like torch.nn.Linear:
// kaiming-uniform (a=√5) weight, i.e. U(-1/√in, 1/√in), and a bias from
// the same range.
func NewLinear(in, out int, bias bool, rng *rand.Rand) *Linear {
	if in < 1 || out < 1 {
		panic(fmt.Sprintf("nn.NewLinear: bad sizes in=%d out=%d", in, out))
	}
	w := tensor.New(out, in)
	KaimingUniform(w, math.Sqrt(5), rng)
	l := &Linear{Weight: autograd.Param(w)}
	if bias {
		b := tensor.New(out)
		bound := 1 / math.Sqrt(float64(in))
		Uniform(b, -bound, bound, rng)
		l.Bias = autograd.Param(b)
	}
	return l
}

// Forward computes x·Wᵀ + b.
func (l *Linear) Forward(x *autograd.Value) *autograd.Value {
	return autograd.Linear(x, l.Weight, l.Bias)
}

// Tensors returns weight and, if present, bias.
func (l *Linear) Tensors() []Var { return weightBias(l.Weight, l.Bias) }

// Children returns nil.
func (l *Linear) Children() []Child { return nil }

// ReLU is max(x, 0).
type ReLU struct{}

// Forward computes max(x, 0).
func (ReLU) Forward(x *autograd.Value) *autograd.Value { return autograd.ReLU(x) }

// Tensors returns nil.
func (ReLU) Tensors() []Var { return nil }

// Children returns nil.
func (ReLU) Children() []Child { return nil }

// MaxPool2d takes the maximum over Kernel×Kernel windows of NHWC input,
// padding with -∞: torch.nn.MaxPool2d(Kernel, Stride, Pad).
type MaxPool2d struct {
	Kernel, Stride, Pad int
}

// Forward pools x [N,H,W,C].
func (p MaxPool2d) Forward(x *autograd.Value) *autograd.Value {
	return autograd.MaxPool2d(x, p.Kernel, p.Stride, p.Pad)
}

// Tensors returns nil.
func (MaxPool2d) Tensors() []Var { return nil }

// Children returns nil.
func (MaxPool2d) Children() []Child { return nil }

// GlobalAvgPool averages over the spatial axes: [N,H,W,C] → [N,C].
// It is torch.nn.AdaptiveAvgPool2d(1) followed by flatten(1).
type GlobalAvgPool struct{}

// Forward averages x [N,H,W,C] over H and W.
func (GlobalAvgPool) Forward(x *autograd.Value) *autograd.Value { return autograd.GlobalAvgPool(x) }

// Tensors returns nil.
func (GlobalAvgPool) Tensors() []Var { return nil }

// Children returns nil.
func (GlobalAvgPool) Children() []Child { return nil }
