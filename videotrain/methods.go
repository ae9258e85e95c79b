package videotrain

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
	"github.com/contrastive-ssl/contrastive/video"
	"github.com/contrastive-ssl/contrastive/videomodels"
)

// method is one video pretext task over a batch of two views.
type method interface {
	loss(b *video.Batch) *autograd.Value
	afterStep()
	root() nn.Module                   // everything trained; the encoder is the child ""
	encoder() *videomodels.VideoResNet // the RGB encoder evaluated downstream
	state() map[string]*tensor.Tensor
	loadState(map[string]*tensor.Tensor) error
}

// root is a method's module tree.
type rootModule struct{ children []nn.Child }

func (r *rootModule) Forward(*autograd.Value) *autograd.Value {
	panic("videotrain: the root module has no Forward; use the method's loss")
}
func (r *rootModule) Tensors() []nn.Var    { return nil }
func (r *rootModule) Children() []nn.Child { return r.children }

func newMethod(c *Config, rng *rand.Rand) (method, error) {
	enc, err := videomodels.New(videomodels.Config{Arch: c.Arch, Width: c.Width}, rng)
	if err != nil {
		return nil, err
	}
	d := enc.FeatureDim()
	tau := float32(c.Temperature)
	switch {
	case c.Pretext == PretextCrossModal:
		motion := videomodels.MustNew(videomodels.Config{Arch: c.Arch, Width: c.Width}, rng)
		m := &crossModal{enc: enc, motion: motion, tau: tau,
			projRGB: nn.SimCLRProjection(d, d, c.ProjDim, true, rng), projMotion: nn.SimCLRProjection(d, d, c.ProjDim, true, rng)}
		m.r = &rootModule{[]nn.Child{{Name: "", Module: enc}, {Name: "projector", Module: m.projRGB},
			{Name: "motion_encoder", Module: motion}, {Name: "motion_projector", Module: m.projMotion}}}
		return m, nil
	case c.Method == MethodMoCo:
		m := &moco{enc: enc, tau: tau, mom: float32(c.MoCoM), proj: nn.MoCoV2Projection(d, d, c.ProjDim, rng)}
		m.keyEnc = videomodels.MustNew(videomodels.Config{Arch: c.Arch, Width: c.Width}, rng)
		m.keyProj = nn.MoCoV2Projection(d, d, c.ProjDim, rng)
		m.r = &rootModule{[]nn.Child{{Name: "", Module: enc}, {Name: "projector", Module: m.proj}}}
		m.keys = &rootModule{[]nn.Child{{Name: "", Module: m.keyEnc}, {Name: "projector", Module: m.keyProj}}}
		m.copyToKeys()
		// a random, normalised initial queue, as MoCo's register_buffer
		m.queue = tensor.New(c.MoCoQueue, c.ProjDim)
		for i := range m.queue.Data {
			m.queue.Data[i] = float32(rng.NormFloat64())
		}
		normalizeRows(m.queue)
		return m, nil
	default:
		m := &simclr{enc: enc, tau: tau, proj: nn.SimCLRProjection(d, d, c.ProjDim, true, rng)}
		m.r = &rootModule{[]nn.Child{{Name: "", Module: enc}, {Name: "projector", Module: m.proj}}}
		return m, nil
	}
}

// forward encodes and projects x [B, T, S, S, 3].
func forward(enc *videomodels.VideoResNet, proj *nn.Sequential, x *tensor.Tensor) *autograd.Value {
	return proj.Forward(enc.Forward(autograd.Const(x)))
}

// stack concatenates two [B, ...] views into [2B, ...].
func stack(a, b *tensor.Tensor) *tensor.Tensor {
	s := append([]int{2 * a.Dim(0)}, a.Shape()[1:]...)
	out := tensor.New(s...)
	copy(out.Data, a.Data)
	copy(out.Data[len(a.Data):], b.Data)
	return out
}

// simclr: both temporal views through one encoder in one batch of 2B
// clips (batch-norm statistics over all of them), NT-Xent between them.
type simclr struct {
	enc  *videomodels.VideoResNet
	proj *nn.Sequential
	r    *rootModule
	tau  float32
}

func (m *simclr) loss(b *video.Batch) *autograd.Value {
	n := b.Views[0].Dim(0)
	z := forward(m.enc, m.proj, stack(b.Views[0], b.Views[1]))
	return loss.NTXent(autograd.SliceAxis(z, 0, 0, n), autograd.SliceAxis(z, 0, n, 2*n), m.tau)
}
func (m *simclr) afterStep()                                    {}
func (m *simclr) root() nn.Module                               { return m.r }
func (m *simclr) encoder() *videomodels.VideoResNet             { return m.enc }
func (m *simclr) state() map[string]*tensor.Tensor              { return nil }
func (m *simclr) loadState(map[string]*tensor.Tensor) error     { return nil }
func (m *crossModal) loadState(map[string]*tensor.Tensor) error { return nil }

// crossModal: the RGB view through the RGB encoder, the motion view
// through the motion encoder, symmetric NT-Xent between the projections.
type crossModal struct {
	enc, motion         *videomodels.VideoResNet
	projRGB, projMotion *nn.Sequential
	r                   *rootModule
	tau                 float32
}

func (m *crossModal) loss(b *video.Batch) *autograd.Value {
	return loss.NTXent(forward(m.enc, m.projRGB, b.Views[0]), forward(m.motion, m.projMotion, b.Views[1]), m.tau)
}
func (m *crossModal) afterStep()                        {}
func (m *crossModal) root() nn.Module                   { return m.r }
func (m *crossModal) encoder() *videomodels.VideoResNet { return m.enc }
func (m *crossModal) state() map[string]*tensor.Tensor  { return nil }

// moco (He et al., arXiv:1911.05722, Algorithm 1) over temporal clips:
// q = normalize(g(f_q(clip 1))), k = normalize(g_k(f_k(clip 2))) without
// gradient, InfoNCE against the queue; after the step f_k ← m·f_k +
// (1−m)·f_q and k enters the queue. The key encoder runs in training mode
// on its own batch (no shuffled BN: one process).
type moco struct {
	enc, keyEnc   *videomodels.VideoResNet
	proj, keyProj *nn.Sequential
	r, keys       *rootModule
	queue         *tensor.Tensor // [K, D]
	ptr           int
	lastK         *tensor.Tensor
	tau, mom      float32
}

func (m *moco) loss(b *video.Batch) *autograd.Value {
	q := autograd.L2Normalize(forward(m.enc, m.proj, b.Views[0]), 1e-12)
	var k *tensor.Tensor
	autograd.NoGrad(func() {
		k = autograd.L2Normalize(forward(m.keyEnc, m.keyProj, b.Views[1]), 1e-12).Data.Clone()
	})
	m.lastK = k
	return loss.InfoNCE(q, autograd.Const(k), autograd.Const(m.queue), m.tau)
}

// afterStep updates the key encoder (the EMA follows the SGD step, as in
// Algorithm 1) and enqueues the batch's keys.
func (m *moco) afterStep() {
	qp, kp := nn.Params(m.r), nn.Params(m.keys)
	for i := range qp {
		q, k := qp[i].Value.Data.Data, kp[i].Value.Data.Data
		for j := range k {
			k[j] = m.mom*k[j] + (1-m.mom)*q[j]
		}
	}
	if m.lastK != nil {
		d := m.queue.Dim(1)
		for r := 0; r < m.lastK.Dim(0); r++ {
			copy(m.queue.Data[m.ptr*d:(m.ptr+1)*d], m.lastK.Data[r*d:(r+1)*d])
			m.ptr = (m.ptr + 1) % m.queue.Dim(0)
		}
		m.lastK = nil
	}
}

func (m *moco) copyToKeys() {
	qs, ks := nn.State(m.r), nn.State(m.keys)
	for i := range qs {
		if qs[i].F32 != nil {
			copy(ks[i].F32.Data, qs[i].F32.Data)
		}
	}
	for _, p := range nn.Params(m.keys) {
		p.Value.SetRequiresGrad(false)
	}
}

func (m *moco) root() nn.Module                   { return m.r }
func (m *moco) encoder() *videomodels.VideoResNet { return m.enc }

// state holds the queue, its pointer and the key encoder's tensors.
func (m *moco) state() map[string]*tensor.Tensor {
	s := map[string]*tensor.Tensor{"queue": m.queue, "queue_ptr": tensor.FromSlice([]float32{float32(m.ptr)}, 1)}
	for _, e := range nn.State(m.keys) {
		if e.F32 != nil {
			s["key."+e.Name] = e.F32
		}
	}
	return s
}

func (m *moco) loadState(s map[string]*tensor.Tensor) error {
	load := func(name string, dst *tensor.Tensor) error {
		t, ok := s[name]
		if !ok || !tensor.SameShape(t, dst) {
			return fmt.Errorf("videotrain: moco state %q missing or of the wrong shape", name)
		}
		copy(dst.Data, t.Data)
		return nil
	}
	if err := load("queue", m.queue); err != nil {
		return err
	}
	p, ok := s["queue_ptr"]
	if !ok || p.Numel() != 1 {
		return fmt.Errorf("videotrain: moco state queue_ptr missing")
	}
	m.ptr = int(p.Data[0])
	for _, e := range nn.State(m.keys) {
		if e.F32 != nil {
			if err := load("key."+e.Name, e.F32); err != nil {
				return err
			}
		}
	}
	return nil
}

func normalizeRows(t *tensor.Tensor) {
	d := t.Dim(1)
	for r := 0; r < t.Dim(0); r++ {
		row := t.Data[r*d : (r+1)*d]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		if s > 0 {
			inv := float32(1 / math.Sqrt(s))
			for i := range row {
				row[i] *= inv
			}
		}
	}
}
