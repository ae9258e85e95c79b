package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Stem names.
const (
	StemImageNet = "imagenet" // 7×7/2 conv + BN + ReLU + 3×3/2 max pool
	StemCIFAR    = "cifar"    // 3×3/1 conv + BN + ReLU, no max pool
)

type archSpec struct {
	bottleneck bool
	blocks     [4]int
}

var archs = map[string]archSpec{
	"resnet18":  {false, [4]int{2, 2, 2, 2}},
	"resnet34":  {false, [4]int{3, 4, 6, 3}},
	"resnet50":  {true, [4]int{3, 4, 6, 3}},
	"resnet101": {true, [4]int{3, 4, 23, 3}},
	"resnet152": {true, [4]int{3, 8, 36, 3}},
}

// Archs returns the supported architecture names, sorted.
func Archs() []string {
	names := make([]string, 0, len(archs))
	for n := range archs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Config describes a ResNet encoder. The zero value of a field means its
// default (see Defaults).
type Config struct {
	Arch       string  // "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"
	Stem       string  // StemImageNet (default) or StemCIFAR
	InChannels int     // input channels (default 3)
	Width      float64 // width multiplier (default 1): base width max(1, round(64·Width))
	// ZeroInitResidual starts the last batch norm of every residual block
	// at γ = 0, so each block begins as the identity (torchvision's
	// zero_init_residual, Goyal et al. arXiv:1706.02677).
	ZeroInitResidual bool
}

// Defaults fills zero fields with their defaults: resnet50, imagenet stem,
// 3 input channels, width 1.
func (c *Config) Defaults() {
	if c.Arch == "" {
		c.Arch = "resnet50"
	}
	if c.Stem == "" {
		c.Stem = StemImageNet
	}
	if c.InChannels == 0 {
		c.InChannels = 3
	}
	if c.Width == 0 {
		c.Width = 1
	}
}

// Validate reports the first invalid field, naming it and the accepted
// values.
func (c Config) Validate() error {
	if _, ok := archs[c.Arch]; !ok {
		return fmt.Errorf("models: unknown arch %q (want one of %v)", c.Arch, Archs())
	}
	if c.Stem != StemImageNet && c.Stem != StemCIFAR {
		return fmt.Errorf("models: unknown stem %q (want %q or %q)", c.Stem, StemImageNet, StemCIFAR)
	}
	if c.InChannels < 1 {
		return fmt.Errorf("models: in-channels %d, want ≥ 1", c.InChannels)
	}
	if !(c.Width > 0) || math.IsInf(c.Width, 0) || c.Width > 64 {
		return fmt.Errorf("models: width %v, want 0 < width ≤ 64", c.Width)
	}
	return nil
}

// BaseWidth returns the number of channels of the stem and the first
// stage: max(1, round(64·Width)).
func (c Config) BaseWidth() int {
	return max(1, int(math.Round(64*c.Width)))
}

// FeatureDim returns the size of the pooled feature: 8·base for
// ResNet-18/34, 32·base for the Bottleneck networks.
func (c Config) FeatureDim() int {
	d := 8 * c.BaseWidth()
	if archs[c.Arch].bottleneck {
		d *= 4
	}
	return d
}

// ResNet is a torchvision ResNet without its fc layer.
type ResNet struct {
	Conv1   *nn.Conv2d
	BN1     *nn.BatchNorm
	MaxPool *nn.MaxPool2d // nil for the CIFAR stem
	Layers  [4]*nn.Sequential
	cfg     Config
}

// NewResNet builds the encoder cfg describes (defaults filled in) with
// torchvision's initialisation: kaiming-normal (fan_out) convolutions, batch
// norms at γ = 1, β = 0. It returns an error for an invalid config.
func NewResNet(cfg Config, rng *rand.Rand) (*ResNet, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	spec := archs[cfg.Arch]
	base := cfg.BaseWidth()
	r := &ResNet{cfg: cfg}
	if cfg.Stem == StemImageNet {
		r.Conv1 = conv(cfg.InChannels, base, 7, 2, 3, rng)
		r.MaxPool = &nn.MaxPool2d{Kernel: 3, Stride: 2, Pad: 1}
	} else {
		r.Conv1 = conv(cfg.InChannels, base, 3, 1, 1, rng)
	}
	r.BN1 = nn.NewBatchNorm(base)
	inplanes := base
	for i := 0; i < 4; i++ {
		planes := base << i
		stride := 1
		if i > 0 {
			stride = 2
		}
		var blocks []nn.Module
		for j := 0; j < spec.blocks[i]; j++ {
			s := 1
			if j == 0 {
				s = stride
			}
			if spec.bottleneck {
				b := newBottleneck(inplanes, planes, s, cfg.ZeroInitResidual, rng)
				blocks = append(blocks, b)
				inplanes = planes * 4
			} else {
				b := newBasicBlock(inplanes, planes, s, cfg.ZeroInitResidual, rng)
				blocks = append(blocks, b)
				inplanes = planes
			}
		}
		r.Layers[i] = nn.NewSequential(blocks...)
	}
	return r, nil
}

// MustResNet is NewResNet for configs known to be valid (tests, examples);
// it panics on an invalid config.
func MustResNet(cfg Config, rng *rand.Rand) *ResNet {
	r, err := NewResNet(cfg, rng)
	if err != nil {
		panic(err)
	}
	return r
}

// Config returns the configuration the network was built with, defaults
// filled in.
func (r *ResNet) Config() Config { return r.cfg }

// FeatureDim returns the size of the pooled feature Forward returns.
func (r *ResNet) FeatureDim() int { return r.cfg.FeatureDim() }

// Forward maps images x [N, H, W, InChannels] to pooled features
// [N, FeatureDim].
func (r *ResNet) Forward(x *autograd.Value) *autograd.Value {
	for _, s := range r.Stages() {
		x = s.Forward(x)
	}
	return x
}

// Stage is one step of the forward pass, for per-stage timing.
type Stage struct {
	Name    string
	Forward func(x *autograd.Value) *autograd.Value
}

// Stages returns the forward pass as consecutive steps: "stem" (conv1, bn1,
// relu and the max pool), "layer1" … "layer4" and "avgpool". Applying them
// in order is Forward.
func (r *ResNet) Stages() []Stage {
	st := []Stage{{"stem", r.forwardStem}}
	for i, l := range r.Layers {
		st = append(st, Stage{"layer" + strconv.Itoa(i+1), l.Forward})
	}
	return append(st, Stage{"avgpool", autograd.GlobalAvgPool})
}

func (r *ResNet) forwardStem(x *autograd.Value) *autograd.Value {
	if s := x.Shape(); len(s) != 4 || s[3] != r.cfg.InChannels {
		panic(fmt.Sprintf("models.ResNet.Forward: input shape %v, want NHWC [N, H, W, %d]", s, r.cfg.InChannels))
	}
	x = r.BN1.ForwardReLU(r.Conv1.Forward(x))
	if r.MaxPool != nil {
		x = r.MaxPool.Forward(x)
	}
	return x
}

// Tensors returns nil: the ResNet's tensors belong to its children.
func (r *ResNet) Tensors() []nn.Var { return nil }

// Children returns conv1, bn1, maxpool (ImageNet stem), layer1…layer4 and
// avgpool, torchvision's registration order without relu and fc.
func (r *ResNet) Children() []nn.Child {
	c := []nn.Child{{Name: "conv1", Module: r.Conv1}, {Name: "bn1", Module: r.BN1}}
	if r.MaxPool != nil {
		c = append(c, nn.Child{Name: "maxpool", Module: r.MaxPool})
	}
	for i, l := range r.Layers {
		c = append(c, nn.Child{Name: "layer" + strconv.Itoa(i+1), Module: l})
	}
	return append(c, nn.Child{Name: "avgpool", Module: nn.GlobalAvgPool{}})
}

// conv returns a bias-free convolution with torchvision ResNet's
// kaiming-normal (fan_out) initialisation.
func conv(in, out, k, stride, pad int, rng *rand.Rand) *nn.Conv2d {
	c := &nn.Conv2d{Weight: autograd.Param(newWeight(out, in, k)), Stride: stride, Pad: pad}
	nn.KaimingNormalFanOut(c.Weight.Data, rng)
	return c
}

func downsample(in, out, stride int, rng *rand.Rand) *nn.Sequential {
	return nn.NewSequential(conv(in, out, 1, stride, 0, rng), nn.NewBatchNorm(out))
}

// BasicBlock is torchvision's two-3×3 residual block (ResNet-18/34):
// relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x)).
type BasicBlock struct {
	Conv1      *nn.Conv2d
	BN1        *nn.BatchNorm
	Conv2      *nn.Conv2d
	BN2        *nn.BatchNorm
	Downsample *nn.Sequential // nil when the shapes already match
}

func newBasicBlock(in, planes, stride int, zeroInit bool, rng *rand.Rand) *BasicBlock {
	b := &BasicBlock{
		Conv1: conv(in, planes, 3, stride, 1, rng),
		BN1:   nn.NewBatchNorm(planes),
		Conv2: conv(planes, planes, 3, 1, 1, rng),
		BN2:   nn.NewBatchNorm(planes),
	}
	if stride != 1 || in != planes {
		b.Downsample = downsample(in, planes, stride, rng)
	}
	if zeroInit {
		b.BN2.Weight.Data.Zero()
	}
	return b
}

// Forward applies the block to x [N, H, W, C].
func (b *BasicBlock) Forward(x *autograd.Value) *autograd.Value {
	out := b.BN1.ForwardReLU(b.Conv1.Forward(x))
	out = b.BN2.Forward(b.Conv2.Forward(out))
	id := x
	if b.Downsample != nil {
		id = b.Downsample.Forward(x)
	}
	return autograd.AddReLU(out, id)
}

// Tensors returns nil.
func (b *BasicBlock) Tensors() []nn.Var { return nil }

// Children returns conv1, bn1, conv2, bn2 and downsample.
func (b *BasicBlock) Children() []nn.Child {
	c := []nn.Child{{Name: "conv1", Module: b.Conv1}, {Name: "bn1", Module: b.BN1},
		{Name: "conv2", Module: b.Conv2}, {Name: "bn2", Module: b.BN2}}
	if b.Downsample != nil {
		c = append(c, nn.Child{Name: "downsample", Module: b.Downsample})
	}
	return c
}

// Bottleneck is torchvision's 1×1-3×3-1×1 residual block (ResNet-50 and
// deeper) with the stride on the 3×3 convolution (v1.5); its output has
// 4·planes channels.
type Bottleneck struct {
	Conv1      *nn.Conv2d
	BN1        *nn.BatchNorm
	Conv2      *nn.Conv2d
	BN2        *nn.BatchNorm
	Conv3      *nn.Conv2d
	BN3        *nn.BatchNorm
	Downsample *nn.Sequential
}

func newBottleneck(in, planes, stride int, zeroInit bool, rng *rand.Rand) *Bottleneck {
	out := planes * 4
	b := &Bottleneck{
		Conv1: conv(in, planes, 1, 1, 0, rng),
		BN1:   nn.NewBatchNorm(planes),
		Conv2: conv(planes, planes, 3, stride, 1, rng),
		BN2:   nn.NewBatchNorm(planes),
		Conv3: conv(planes, out, 1, 1, 0, rng),
		BN3:   nn.NewBatchNorm(out),
	}
	if stride != 1 || in != out {
		b.Downsample = downsample(in, out, stride, rng)
	}
	if zeroInit {
		b.BN3.Weight.Data.Zero()
	}
	return b
}

// Forward applies the block to x [N, H, W, C].
func (b *Bottleneck) Forward(x *autograd.Value) *autograd.Value {
	out := b.BN1.ForwardReLU(b.Conv1.Forward(x))
	out = b.BN2.ForwardReLU(b.Conv2.Forward(out))
	out = b.BN3.Forward(b.Conv3.Forward(out))
	id := x
	if b.Downsample != nil {
		id = b.Downsample.Forward(x)
	}
	return autograd.AddReLU(out, id)
}

// Tensors returns nil.
func (b *Bottleneck) Tensors() []nn.Var { return nil }

// Children returns conv1, bn1, conv2, bn2, conv3, bn3 and downsample.
func (b *Bottleneck) Children() []nn.Child {
	c := []nn.Child{{Name: "conv1", Module: b.Conv1}, {Name: "bn1", Module: b.BN1},
		{Name: "conv2", Module: b.Conv2}, {Name: "bn2", Module: b.BN2},
		{Name: "conv3", Module: b.Conv3}, {Name: "bn3", Module: b.BN3}}
	if b.Downsample != nil {
		c = append(c, nn.Child{Name: "downsample", Module: b.Downsample})
	}
	return c
}

func newWeight(out, in, k int) *tensor.Tensor { return tensor.New(out, in, k, k) }
