package detection

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
)

// Stride is the output stride of the detector: one heatmap cell per 8×8
// input pixels.
const Stride = 8

// CenterNet is the detector: a ResNet backbone, a top-down neck that fuses
// the stages of stride 8 and coarser into one stride-8 map, and three
// heads (3×3 conv, ReLU, 1×1 conv) predicting per cell the class heatmap
// logits, the box size (in cells) and the sub-cell offset of the centre.
type CenterNet struct {
	Backbone *models.ResNet
	Lateral  *nn.Sequential // one 1×1 conv per fused stage, shallow to deep
	Smooth   *nn.Conv2d     // 3×3 over the fused map
	SmoothBN *nn.BatchNorm
	Heatmap  *nn.Sequential
	Size     *nn.Sequential
	Offset   *nn.Sequential

	NumClasses int
	// FrozenBN keeps the backbone's batch norms at their running
	// statistics with γ and β fixed (detectron2's FrozenBatchNorm2d).
	FrozenBN bool
	first    int // index of the first fused stage in Backbone.Stages()
}

// stageStrides returns the output stride of stem, layer1…layer4.
func stageStrides(stem string) [5]int {
	if stem == models.StemCIFAR {
		return [5]int{1, 1, 2, 4, 8}
	}
	return [5]int{4, 4, 8, 16, 32}
}

// stageChannels returns the channels of layer1…layer4's outputs.
func stageChannels(cfg models.Config) [4]int {
	var c [4]int
	for i := range c {
		c[i] = cfg.BaseWidth() << i
		if cfg.FeatureDim() > 8*cfg.BaseWidth() { // Bottleneck
			c[i] *= 4
		}
	}
	return c
}

// NewCenterNet builds a detector for numClasses classes over backbone, with
// a neck of neckWidth channels and heads of headWidth hidden channels.
// The heatmap's last bias starts at −2.19 (a prior of 0.1, as CenterNet),
// the other heads' last layers at N(0, 0.001) weights and zero bias.
func NewCenterNet(backbone *models.ResNet, numClasses, neckWidth, headWidth int, rng *rand.Rand) (*CenterNet, error) {
	if numClasses < 1 || neckWidth < 1 || headWidth < 1 {
		return nil, fmt.Errorf("detection: %d classes, neck width %d, head width %d: want ≥ 1", numClasses, neckWidth, headWidth)
	}
	cfg := backbone.Config()
	strides := stageStrides(cfg.Stem)
	m := &CenterNet{Backbone: backbone, NumClasses: numClasses, first: -1}
	for i := 1; i < 5; i++ {
		if strides[i] == Stride {
			m.first = i
			break
		}
	}
	if m.first < 0 {
		return nil, fmt.Errorf("detection: stem %q has no stride-%d stage", cfg.Stem, Stride)
	}
	ch := stageChannels(cfg)
	var lat []nn.Module
	for i := m.first; i < 5; i++ {
		lat = append(lat, nn.NewConv2d(ch[i-1], neckWidth, 1, 1, 0, true, rng))
	}
	m.Lateral = nn.NewSequential(lat...)
	m.Smooth = nn.NewConv2d(neckWidth, neckWidth, 3, 1, 1, false, rng)
	m.SmoothBN = nn.NewBatchNorm(neckWidth)
	head := func(out int, bias float32) *nn.Sequential {
		last := nn.NewConv2d(headWidth, out, 1, 1, 0, true, rng)
		if bias != 0 {
			last.Bias.Data.Fill(bias)
		} else {
			nn.Normal(last.Weight.Data, 0, 0.001, rng)
			last.Bias.Data.Zero()
		}
		return nn.NewSequential(nn.NewConv2d(neckWidth, headWidth, 3, 1, 1, true, rng), nn.ReLU{}, last)
	}
	m.Heatmap = head(numClasses, -2.19)
	m.Size = head(2, 0)
	m.Offset = head(2, 0)
	return m, nil
}

// Upsample2x repeats every pixel of x [N,H,W,C] into a 2×2 block:
// [N,2H,2W,C] (nearest-neighbour upsampling), built from Reshape and
// Concat so that its gradient sums each block.
func Upsample2x(x *autograd.Value) *autograd.Value {
	s := x.Shape()
	n, h, w, c := s[0], s[1], s[2], s[3]
	r := autograd.Reshape(x, n, h, w, 1, c)
	r = autograd.Reshape(autograd.Concat(3, r, r), n, h, 1, 2*w, c)
	return autograd.Reshape(autograd.Concat(2, r, r), n, 2*h, 2*w, c)
}

// Forward maps normalised images x [N,H,W,3] to the concatenated head
// outputs [N,H/8,W/8,NumClasses+4]: heatmap logits, then width and height
// in cells, then the x and y offsets.
func (m *CenterNet) Forward(x *autograd.Value) *autograd.Value {
	st := m.Backbone.Stages()
	var feats []*autograd.Value
	for i := 0; i < 5; i++ {
		x = st[i].Forward(x)
		if i >= m.first {
			feats = append(feats, x)
		}
	}
	var p *autograd.Value
	for k := len(feats) - 1; k >= 0; k-- {
		l := m.Lateral.At(k).Forward(feats[k])
		if p != nil {
			up := Upsample2x(p)
			ls := l.Shape()
			if us := up.Shape(); us[1] != ls[1] || us[2] != ls[2] {
				up = autograd.SliceAxis(autograd.SliceAxis(up, 1, 0, ls[1]), 2, 0, ls[2])
			}
			l = autograd.Add(l, up)
		}
		p = l
	}
	p = m.SmoothBN.ForwardReLU(m.Smooth.Forward(p))
	return autograd.Concat(3, m.Heatmap.Forward(p), m.Size.Forward(p), m.Offset.Forward(p))
}

// Tensors returns nil: the tensors belong to the children.
func (m *CenterNet) Tensors() []nn.Var { return nil }

// Children names the parts as the checkpoint stores them.
func (m *CenterNet) Children() []nn.Child {
	return []nn.Child{
		{Name: "backbone", Module: m.Backbone},
		{Name: "neck.lateral", Module: m.Lateral},
		{Name: "neck.smooth", Module: m.Smooth},
		{Name: "neck.smooth_bn", Module: m.SmoothBN},
		{Name: "head.heatmap", Module: m.Heatmap},
		{Name: "head.size", Module: m.Size},
		{Name: "head.offset", Module: m.Offset},
	}
}

// SetTraining switches batch norms between batch and running statistics;
// with FrozenBN the backbone's stay at running statistics and their γ, β
// get no gradient.
func (m *CenterNet) SetTraining(training bool) {
	for _, c := range m.Children() {
		nn.SetTraining(c.Module, training)
	}
	if !m.FrozenBN {
		return
	}
	nn.Walk(m.Backbone, func(_ string, mod nn.Module) {
		if bn, ok := mod.(*nn.BatchNorm); ok {
			bn.SetTraining(false)
			bn.Weight.SetRequiresGrad(false)
			bn.Bias.SetRequiresGrad(false)
		}
	})
}

// Params returns the trainable parameters with their names.
func (m *CenterNet) Params() []nn.Param {
	var out []nn.Param
	for _, p := range nn.Params(m) {
		if p.Value.RequiresGrad() {
			out = append(out, p)
		}
	}
	return out
}

// describe is a one-line summary for logs.
func (m *CenterNet) describe() string {
	c := m.Backbone.Config()
	return c.Arch + " " + c.Stem + " stem, width " + strconv.FormatFloat(c.Width, 'g', -1, 64) +
		", fused stages layer" + strconv.Itoa(m.first) + "–layer4, " + strconv.Itoa(nn.NumParams(m)) + " parameters"
}
