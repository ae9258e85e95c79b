package videomodels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Architecture names.
const (
	R3D18      = "r3d_18"
	R2Plus1D18 = "r2plus1d_18"
)

// Archs returns the supported architectures.
func Archs() []string { return []string{R2Plus1D18, R3D18} }

// IsArch reports whether name is a video architecture of this package.
func IsArch(name string) bool { return name == R3D18 || name == R2Plus1D18 }

// Config describes a video encoder; zero fields take their defaults.
type Config struct {
	Arch       string  // R3D18 (default) or R2Plus1D18
	InChannels int     // input channels (default 3)
	Width      float64 // width multiplier (default 1): base width max(1, round(64·Width))
}

// Defaults fills zero fields.
func (c *Config) Defaults() {
	if c.Arch == "" {
		c.Arch = R3D18
	}
	if c.InChannels == 0 {
		c.InChannels = 3
	}
	if c.Width == 0 {
		c.Width = 1
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if !IsArch(c.Arch) {
		return fmt.Errorf("videomodels: unknown arch %q (want one of %v)", c.Arch, Archs())
	}
	if c.InChannels < 1 {
		return fmt.Errorf("videomodels: in-channels %d, want ≥ 1", c.InChannels)
	}
	if !(c.Width > 0) || math.IsInf(c.Width, 0) || c.Width > 64 {
		return fmt.Errorf("videomodels: width %v, want 0 < width ≤ 64", c.Width)
	}
	return nil
}

// BaseWidth returns max(1, round(64·Width)), the channels of the stem
// output and of layer1.
func (c Config) BaseWidth() int { return max(1, int(math.Round(64*c.Width))) }

// FeatureDim returns the pooled feature size, 8·base.
func (c Config) FeatureDim() int { return 8 * c.BaseWidth() }

// Conv3d is nn.Conv3d without bias and with a square spatial kernel:
// Weight [OC, C, KT, K, K].
type Conv3d struct {
	Weight          *autograd.Value
	StrideT, Stride int
	PadT, Pad       int
}

// newConv3d returns a convolution with torchvision's VideoResNet
// initialisation, kaiming-normal (fan_out, ReLU gain).
func newConv3d(in, out, kt, k, st, s, pt, p int, rng *rand.Rand) *Conv3d {
	w := tensor.New(out, in, kt, k, k)
	nn.KaimingNormalFanOut(w, rng)
	return &Conv3d{Weight: autograd.Param(w), StrideT: st, Stride: s, PadT: pt, Pad: p}
}

// Forward convolves x [N, T, H, W, C].
func (c *Conv3d) Forward(x *autograd.Value) *autograd.Value {
	return autograd.Conv3d(x, c.Weight, nil, c.StrideT, c.Stride, c.PadT, c.Pad)
}

// Tensors returns the weight.
func (c *Conv3d) Tensors() []nn.Var { return []nn.Var{{Name: "weight", Param: c.Weight}} }

// Children returns nil.
func (c *Conv3d) Children() []nn.Child { return nil }

// relu is nn.ReLU inside a Sequential; seq fuses it with a preceding
// batch norm.
type relu struct{}

func (relu) Forward(x *autograd.Value) *autograd.Value { return autograd.ReLU(x) }
func (relu) Tensors() []nn.Var                         { return nil }
func (relu) Children() []nn.Child                      { return nil }

// seq is an nn.Sequential whose Forward fuses BatchNorm + ReLU pairs.
type seq struct{ *nn.Sequential }

func newSeq(mods ...nn.Module) seq { return seq{nn.NewSequential(mods...)} }

// Forward applies the layers in order, a batch norm followed by a ReLU as
// one fused op.
func (s seq) Forward(x *autograd.Value) *autograd.Value {
	ls := s.Layers
	for i := 0; i < len(ls); i++ {
		if bn, ok := ls[i].Module.(*nn.BatchNorm); ok && i+1 < len(ls) {
			if _, ok := ls[i+1].Module.(relu); ok {
				x = bn.ForwardReLU(x)
				i++
				continue
			}
		}
		x = ls[i].Module.Forward(x)
	}
	return x
}

// convBuilder returns torchvision's conv_builder for the arch: Conv3DSimple
// (one 3×3×3 convolution) or Conv2Plus1D (1×3×3 to mid channels, BN,
// ReLU, 3×1×1).
func convBuilder(arch string, in, out, mid, stride int, rng *rand.Rand) nn.Module {
	if arch == R3D18 {
		return newConv3d(in, out, 3, 3, stride, stride, 1, 1, rng)
	}
	return newSeq(
		newConv3d(in, mid, 1, 3, 1, stride, 0, 1, rng),
		nn.NewBatchNorm(mid), relu{},
		newConv3d(mid, out, 3, 1, stride, 1, 1, 0, rng))
}

// BasicBlock is torchvision.models.video.resnet.BasicBlock:
// relu(conv2(conv1(x)) + downsample(x)) with conv1 = (builder, BN, ReLU)
// and conv2 = (builder, BN).
type BasicBlock struct {
	Conv1, Conv2 seq
	Downsample   *nn.Sequential
}

func newBlock(arch string, in, planes, stride int, rng *rand.Rand) *BasicBlock {
	// torchvision: midplanes = (inplanes·planes·3·3·3) // (inplanes·3·3 + 3·planes)
	mid := (in * planes * 27) / (in*9 + 3*planes)
	b := &BasicBlock{
		Conv1: newSeq(convBuilder(arch, in, planes, mid, stride, rng), nn.NewBatchNorm(planes), relu{}),
		Conv2: newSeq(convBuilder(arch, planes, planes, mid, 1, rng), nn.NewBatchNorm(planes)),
	}
	if stride != 1 || in != planes {
		b.Downsample = nn.NewSequential(newConv3d(in, planes, 1, 1, stride, stride, 0, 0, rng), nn.NewBatchNorm(planes))
	}
	return b
}

// Forward applies the block to x [N, T, H, W, C].
func (b *BasicBlock) Forward(x *autograd.Value) *autograd.Value {
	out := b.Conv2.Forward(b.Conv1.Forward(x))
	id := x
	if b.Downsample != nil {
		id = b.Downsample.Forward(x)
	}
	return autograd.ReLU(autograd.Add(out, id))
}

// Tensors returns nil.
func (b *BasicBlock) Tensors() []nn.Var { return nil }

// Children returns conv1, conv2 and downsample.
func (b *BasicBlock) Children() []nn.Child {
	c := []nn.Child{{Name: "conv1", Module: b.Conv1}, {Name: "conv2", Module: b.Conv2}}
	if b.Downsample != nil {
		c = append(c, nn.Child{Name: "downsample", Module: b.Downsample})
	}
	return c
}

// VideoResNet is torchvision's VideoResNet (BasicBlock, [2, 2, 2, 2])
// without fc: stem, layer1…layer4, global average pool.
type VideoResNet struct {
	Stem   seq
	Layers [4]*nn.Sequential
	cfg    Config
}

// New builds the encoder cfg describes with torchvision's initialisation
// (kaiming-normal fan_out convolutions, batch norms at γ = 1, β = 0).
//
// r3d_18's stem is Conv3d(C, base, (3, 7, 7), stride (1, 2, 2), padding
// (1, 3, 3)), BN, ReLU; r2plus1d_18's is a (1, 7, 7) convolution to
// round(45·Width) channels, BN, ReLU, a (3, 1, 1) one to base, BN, ReLU.
// layer2…4 halve time, height and width.
func New(cfg Config, rng *rand.Rand) (*VideoResNet, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := cfg.BaseWidth()
	r := &VideoResNet{cfg: cfg}
	if cfg.Arch == R3D18 {
		r.Stem = newSeq(newConv3d(cfg.InChannels, base, 3, 7, 1, 2, 1, 3, rng), nn.NewBatchNorm(base), relu{})
	} else {
		mid := max(1, int(math.Round(45*cfg.Width)))
		r.Stem = newSeq(
			newConv3d(cfg.InChannels, mid, 1, 7, 1, 2, 0, 3, rng), nn.NewBatchNorm(mid), relu{},
			newConv3d(mid, base, 3, 1, 1, 1, 1, 0, rng), nn.NewBatchNorm(base), relu{})
	}
	in := base
	for i := range r.Layers {
		planes, stride := base<<i, 2
		if i == 0 {
			stride = 1
		}
		r.Layers[i] = nn.NewSequential(newBlock(cfg.Arch, in, planes, stride, rng), newBlock(cfg.Arch, planes, planes, 1, rng))
		in = planes
	}
	return r, nil
}

// MustNew is New for configs known to be valid; it panics otherwise.
func MustNew(cfg Config, rng *rand.Rand) *VideoResNet {
	r, err := New(cfg, rng)
	if err != nil {
		panic(err)
	}
	return r
}

// Config returns the configuration, defaults filled in.
func (r *VideoResNet) Config() Config { return r.cfg }

// FeatureDim returns the size of the pooled feature.
func (r *VideoResNet) FeatureDim() int { return r.cfg.FeatureDim() }

// Forward maps clips x [N, T, H, W, InChannels] to features [N, FeatureDim].
func (r *VideoResNet) Forward(x *autograd.Value) *autograd.Value {
	if s := x.Shape(); len(s) != 5 || s[4] != r.cfg.InChannels {
		panic(fmt.Sprintf("videomodels.VideoResNet.Forward: input %v, want [N, T, H, W, %d]", s, r.cfg.InChannels))
	}
	x = r.Stem.Forward(x)
	for _, l := range r.Layers {
		x = l.Forward(x)
	}
	return autograd.GlobalAvgPool3d(x)
}

// Tensors returns nil.
func (r *VideoResNet) Tensors() []nn.Var { return nil }

// Children returns stem and layer1…layer4, torchvision's order (the pool
// and fc hold no tensors).
func (r *VideoResNet) Children() []nn.Child {
	c := []nn.Child{{Name: "stem", Module: r.Stem}}
	for i, l := range r.Layers {
		c = append(c, nn.Child{Name: "layer" + strconv.Itoa(i+1), Module: l})
	}
	return c
}
