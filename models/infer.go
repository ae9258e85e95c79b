package models

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Inference is a ResNet prepared for evaluation-mode forward passes: every
// batch norm is folded into the convolution before it (weights scaled by
// γ/√(σ²+ε), a bias β − μ·γ/√(σ²+ε), from the running statistics), each
// convolution adds its bias, the residual and the ReLU while its output is
// in cache (kernels.Conv2dForwardFused), no autograd graph is built, and
// the activation buffers and packed weights are reused from one batch to
// the next.
//
// It is a snapshot: later changes to the ResNet's weights or statistics do
// not reach it (build a new one). Its results equal the ResNet's
// evaluation-mode Forward up to float rounding. An Inference is not safe
// for concurrent use.
type Inference struct {
	cfg    Config
	stem   *foldedConv
	pool   bool // 3×3/2 max pool after the stem
	layers [4][]foldedBlock

	// Buffers, grown on demand: two block-sized maps (a block's input and
	// output), two for the inner convolutions, the im2col scratch and the
	// pooled features.
	main       [3][]float32
	inner      [2][]float32
	scratch    []float32
	planFor    [2]int // input H, W the per-image sizes below were computed for
	mainPer    int    // floats per image of the largest block-sized map
	innerPer   int    // floats per image of the largest inner map
	scratchFor int    // images the scratch was sized for
}

// foldedConv is a convolution with its batch norm folded in: OIHW weights
// and a bias, packed per input size on first use.
type foldedConv struct {
	w           []float32 // [OC, C, K, K], scaled
	bias        []float32 // [OC]
	oc, c, k    int
	stride, pad int
	packs       map[[2]int][]float32
}

type foldedBlock struct {
	conv       []*foldedConv // 2 (basic) or 3 (bottleneck); ReLU after all but the last
	downsample *foldedConv   // nil: identity shortcut
}

// NewInference folds r's batch norms into its convolutions (evaluation
// mode: running statistics) and returns the inference network.
func NewInference(r *ResNet) *Inference {
	f := &Inference{cfg: r.cfg, stem: fold(r.Conv1, r.BN1), pool: r.MaxPool != nil}
	for i, l := range r.Layers {
		for j := 0; j < l.Len(); j++ {
			m := l.At(j)
			var b foldedBlock
			switch blk := m.(type) {
			case *BasicBlock:
				b.conv = []*foldedConv{fold(blk.Conv1, blk.BN1), fold(blk.Conv2, blk.BN2)}
				if blk.Downsample != nil {
					b.downsample = foldSeq(blk.Downsample)
				}
			case *Bottleneck:
				b.conv = []*foldedConv{fold(blk.Conv1, blk.BN1), fold(blk.Conv2, blk.BN2), fold(blk.Conv3, blk.BN3)}
				if blk.Downsample != nil {
					b.downsample = foldSeq(blk.Downsample)
				}
			default:
				panic(fmt.Sprintf("models.NewInference: layer%d holds a %T", i+1, m))
			}
			f.layers[i] = append(f.layers[i], b)
		}
	}
	return f
}

func foldSeq(s *nn.Sequential) *foldedConv {
	return fold(s.At(0).(*nn.Conv2d), s.At(1).(*nn.BatchNorm))
}

// fold returns conv followed by bn (running statistics) as one
// convolution: w' = w·s, b' = β − μ·s (+ b·s for a conv bias), s = γ/√(σ²+ε),
// computed in float64.
func fold(conv *nn.Conv2d, bn *nn.BatchNorm) *foldedConv {
	ws := conv.Weight.Shape()
	oc, c, k := ws[0], ws[1], ws[2]
	f := &foldedConv{w: make([]float32, oc*c*k*k), bias: make([]float32, oc), oc: oc, c: c, k: k,
		stride: conv.Stride, pad: conv.Pad, packs: map[[2]int][]float32{}}
	per := c * k * k
	for o := 0; o < oc; o++ {
		g, b := 1.0, 0.0
		if bn.Weight != nil {
			g = float64(bn.Weight.Data.Data[o])
		}
		if bn.Bias != nil {
			b = float64(bn.Bias.Data.Data[o])
		}
		s := g / math.Sqrt(float64(bn.State.RunningVar.Data[o])+float64(bn.State.Eps))
		bias := b - float64(bn.State.RunningMean.Data[o])*s
		if conv.Bias != nil {
			bias += float64(conv.Bias.Data.Data[o]) * s
		}
		f.bias[o] = float32(bias)
		for i, v := range conv.Weight.Data.Data[o*per : (o+1)*per] {
			f.w[o*per+i] = float32(float64(v) * s)
		}
	}
	return f
}

func (f *foldedConv) shape(n, h, w int) kernels.Conv2dShape {
	return kernels.Conv2dShape{N: n, H: h, W: w, C: f.c, OC: f.oc, KH: f.k, KW: f.k, Stride: f.stride, Pad: f.pad}
}

// packed returns the weights packed for inputs of h×w (the packing depends
// on the map size, not on the batch).
func (f *foldedConv) packed(h, w int) []float32 {
	key := [2]int{h, w}
	if p, ok := f.packs[key]; ok {
		return p
	}
	s := f.shape(1, h, w)
	p := make([]float32, kernels.ConvPackedLen(s))
	kernels.PackConvWeights(s, f.w, p)
	f.packs[key] = p
	return p
}

// run applies the convolution to x [n, h, w, C] into y with the epilogue
// (bias, optional residual sum and ReLU) and returns the output map size.
func (inf *Inference) run(f *foldedConv, x []float32, n, h, w int, y []float32, accumulate, relu bool) (oh, ow int) {
	s := f.shape(n, h, w)
	kernels.Conv2dForwardFused(s, x, f.packed(h, w), y, inf.scratch, kernels.Epilogue{Bias: f.bias, Accumulate: accumulate, ReLU: relu})
	return s.OutH(), s.OutW()
}

// Config returns the configuration of the ResNet it was built from.
func (inf *Inference) Config() Config { return inf.cfg }

// FeatureDim returns the size of the pooled feature.
func (inf *Inference) FeatureDim() int { return inf.cfg.FeatureDim() }

// FLOPs returns the floating-point operations of the convolutions for one
// h×w image (2 per multiply-add), the measure of effective GFLOP/s.
func (inf *Inference) FLOPs(h, w int) float64 {
	var total float64
	inf.walk(h, w, func(f *foldedConv, h, w int) { total += f.shape(1, h, w).FLOPs() })
	return total
}

// walk calls visit for every convolution in forward order with its input
// map size.
func (inf *Inference) walk(h, w int, visit func(f *foldedConv, h, w int)) {
	visit(inf.stem, h, w)
	s := inf.stem.shape(1, h, w)
	h, w = s.OutH(), s.OutW()
	if inf.pool {
		p := kernels.Pool2dShape{N: 1, H: h, W: w, C: inf.stem.oc, K: 3, Stride: 2, Pad: 1}
		h, w = p.OutH(), p.OutW()
	}
	for _, l := range inf.layers {
		for _, b := range l {
			bh, bw := h, w
			for _, c := range b.conv {
				visit(c, h, w)
				s := c.shape(1, h, w)
				h, w = s.OutH(), s.OutW()
			}
			if b.downsample != nil {
				visit(b.downsample, bh, bw)
			}
		}
	}
}

// plan sizes the per-image buffers for h×w inputs.
func (inf *Inference) plan(h, w int) {
	if inf.planFor == [2]int{h, w} && inf.mainPer > 0 {
		return
	}
	inf.planFor = [2]int{h, w}
	inf.mainPer, inf.innerPer = 0, 0
	s := inf.stem.shape(1, h, w)
	inf.mainPer = s.OutH() * s.OutW() * inf.stem.oc
	inf.walk(h, w, func(f *foldedConv, h, w int) {
		if f == inf.stem {
			return
		}
		s := f.shape(1, h, w)
		out := s.OutH() * s.OutW() * f.oc
		inf.mainPer = max(inf.mainPer, out, h*w*f.c)
		inf.innerPer = max(inf.innerPer, out)
	})
	inf.scratchFor = 0
}

// inferBudget bounds the activation buffers of an Inference, in floats
// (128 MiB): larger batches run in sub-batches of as many images as fit.
var inferBudget = 32 << 20

// subBatch returns how many images one pass takes.
func (inf *Inference) subBatch(n int) int {
	per := 3*inf.mainPer + 2*inf.innerPer
	return max(1, min(n, inferBudget/max(per, 1)))
}

func grow(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	return *b
}

// ensure grows the buffers for a pass over n images of h×w.
func (inf *Inference) ensure(n, h, w int) {
	for i := range inf.main {
		grow(&inf.main[i], n*inf.mainPer)
	}
	for i := range inf.inner {
		grow(&inf.inner[i], n*inf.innerPer)
	}
	if n > inf.scratchFor {
		need := 0
		inf.walk(h, w, func(f *foldedConv, h, w int) { need = max(need, kernels.ConvScratchLen(f.shape(n, h, w))) })
		grow(&inf.scratch, need)
		inf.scratchFor = n
	}
}

// StageMap is the output of one stage of a forward pass: Data holds
// [N, H, W, C] (valid only until the visit returns).
type StageMap struct {
	Name       string // "stem", "layer1" … "layer4"
	Data       []float32
	N, H, W, C int
	First      int // index in x of the map's first image (sub-batches)
}

// Forward writes the pooled features of x [N, H, W, InChannels] to out
// (N·FeatureDim values).
func (inf *Inference) Forward(x *tensor.Tensor, out []float32) {
	d := inf.FeatureDim()
	n := x.Dim(0)
	if len(out) < n*d {
		panic(fmt.Sprintf("models.Inference.Forward: out has %d values, want %d", len(out), n*d))
	}
	inf.ForwardStages(x, func(m StageMap) bool {
		if m.Name == "layer4" {
			kernels.GlobalAvgPoolForward(m.Data, m.N, m.H*m.W, m.C, out[m.First*d:(m.First+m.N)*d])
		}
		return true
	})
}

// ForwardStages runs x [N, H, W, InChannels] through the network and calls
// visit with the output of the stem and of each of layer1 … layer4, in
// order; a sub-batch stops early when visit returns false. Batches larger
// than the buffers hold run as consecutive sub-batches, each visited in
// turn with its own N; the maps' rows follow x's.
func (inf *Inference) ForwardStages(x *tensor.Tensor, visit func(StageMap) bool) {
	xs := x.Shape()
	if len(xs) != 4 || xs[3] != inf.cfg.InChannels {
		panic(fmt.Sprintf("models.Inference.ForwardStages: input shape %v, want NHWC [N, H, W, %d]", xs, inf.cfg.InChannels))
	}
	n, h, w := xs[0], xs[1], xs[2]
	inf.plan(h, w)
	step := inf.subBatch(n)
	inf.ensure(step, h, w)
	per := h * w * xs[3]
	for n0 := 0; n0 < n; n0 += step {
		n1 := min(n0+step, n)
		inf.forward(x.Data[n0*per:n1*per], n0, n1-n0, h, w, visit)
	}
}

var layerNames = [4]string{"layer1", "layer2", "layer3", "layer4"}

func (inf *Inference) forward(x []float32, first, n, h, w int, visit func(StageMap) bool) {
	cur, spare, ds := inf.main[0], inf.main[1], inf.main[2]
	h, w = inf.run(inf.stem, x, n, h, w, spare, false, true)
	c := inf.stem.oc
	if inf.pool {
		p := kernels.Pool2dShape{N: n, H: h, W: w, C: c, K: 3, Stride: 2, Pad: 1}
		kernels.MaxPool2dInfer(p, spare, cur)
		h, w = p.OutH(), p.OutW()
	} else {
		cur, spare = spare, cur
	}
	if !visit(StageMap{Name: "stem", Data: cur[:n*h*w*c], N: n, H: h, W: w, C: c, First: first}) {
		return
	}
	for i, l := range inf.layers {
		for _, b := range l {
			// The block's output lands in the shortcut's buffer: the
			// downsample's output, or the block input itself.
			res := cur
			if b.downsample != nil {
				res = ds
				inf.run(b.downsample, cur, n, h, w, res, false, false)
			}
			in, ih, iw := cur, h, w
			for j, cv := range b.conv {
				last := j == len(b.conv)-1
				dst := inf.inner[j%2]
				if last {
					dst = res
				}
				ih, iw = inf.run(cv, in, n, ih, iw, dst, last, true)
				in = dst
			}
			if b.downsample != nil {
				cur, ds = ds, cur
			}
			h, w, c = ih, iw, b.conv[len(b.conv)-1].oc
		}
		if !visit(StageMap{Name: layerNames[i], Data: cur[:n*h*w*c], N: n, H: h, W: w, C: c, First: first}) {
			return
		}
	}
}
