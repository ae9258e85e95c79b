package methods

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// MoCo is the momentum-encoder architecture (He et al., "Momentum Contrast
// for Unsupervised Visual Representation Learning", arXiv:1911.05722; v2:
// Chen et al., "Improved Baselines with Momentum Contrastive Learning",
// arXiv:2003.04297). Algorithm 1, with query encoder f_q (trained) and key
// encoder f_k (not trained by gradients):
//
//	f_k.params = f_q.params                         (NewMoCo)
//	for x in loader:                                (Loss:)
//	    x_q, x_k = aug(x), aug(x)                   the loader's two views
//	    q = f_q.forward(x_q)                        N×C, L2-normalised
//	    k = f_k.forward(x_k).detach()               N×C, L2-normalised
//	    lPos = bmm(q.view(N,1,C), k.view(N,C,1))    N×1
//	    lNeg = mm(q.view(N,C), queue.view(C,K))     N×K
//	    loss = CrossEntropy(cat([lPos, lNeg])/τ, zeros(N))
//	    loss.backward(); update(f_q.params)         (the training loop)
//	    f_k.params = m·f_k.params + (1−m)·f_q.params  (AfterStep)
//	    enqueue(queue, k); dequeue(queue)           (AfterStep)
//
// moco/builder.py runs the momentum update at the start of forward and the
// enqueue at its end, before the SGD step. That is the same sequence: f_k
// still moves once per f_q step, after that step and before the next keys
// are computed (the builder's first update is a no-op because f_k = f_q),
// and nothing reads the queue between the enqueue and the next forward.
//
// v1 has a linear 128-d head and τ = 0.07; v2 a 2-layer MLP head (hidden
// width = the feature width, 2048 for ResNet-50, ReLU) and τ = 0.2. Both
// encoders carry their own head; f_k's weights, its batch-norm statistics
// and the queue are the method's State (names "encoder_k.*", "queue",
// "queue_ptr"), so a resumed run continues exactly.
//
// Shuffling BN. With batch norm, a query and its positive key normalised
// with statistics of the same images can be matched through those
// statistics ("the intra-batch communication among samples (caused by BN)
// leaks information", §3.3); MoCo shuffles the key batch across 8 GPUs,
// each with its own BN, and un-shuffles the keys. Its single-device
// equivalent here, as in the MoCo authors' CIFAR-10 demo (SplitBatchNorm
// with bn_splits = 8): the key batch is permuted by an RNG seeded with
// (seed, step), encoded in S = BNSplits contiguous sub-batches, each
// normalised with its own batch statistics, and put back in order; the
// query batch is encoded in S sub-batches in its own order. A query's BN
// statistics then come from a different random subset than its key's. The
// running statistics get one update per step, from the mean over the S
// sub-batches (each starts from the same running statistics), as
// SplitBatchNorm does. S is capped at N/2 so every sub-batch holds at
// least two images; S = 1 turns it off.
type MoCo struct {
	cfg   Config
	opt   MoCoConfig
	tau   float32
	seed  uint64
	query *mocoNet // f_q: Model()
	key   *mocoNet // f_k: State(), moved only by ema
	ema   momentum
	queue *keyQueue

	k       *tensor.Tensor // keys of the last Loss, [N, C], enqueued by AfterStep
	pending bool           // k holds keys not yet enqueued
	shuf    *tensor.Tensor // the permuted key views
	comm    Comm           // the process group (Distribute), nil for one process
	syncBN  bool
}

// mocoNet is an encoder with its projection head.
type mocoNet struct {
	encoder *models.ResNet
	head    *nn.Sequential
	root    *model
	bn      splitBN
}

func (n *mocoNet) forward(x *autograd.Value) *autograd.Value {
	return n.head.Forward(n.encoder.Forward(x))
}

// mocoShuffleSalt separates the BN-shuffle stream from other (seed, step)
// streams.
const mocoShuffleSalt = 0x6d6f636f // "moco"

// NewMoCo builds f_q (encoder and head), copies it into f_k and fills the
// queue with random unit keys. cfg.Options.MoCo selects the version; τ is
// 0.07 (v1) or 0.2 (v2) unless cfg.Temperature is set.
func NewMoCo(cfg Config, seed uint64) (*MoCo, error) {
	cfg.Defaults()
	opt := cfg.Options.MoCo
	if err := opt.Validate(); err != nil {
		return nil, fmt.Errorf("moco: %w", err)
	}
	opt.Defaults()
	m := &MoCo{cfg: cfg, opt: opt, tau: cfg.Temperature, seed: seed}
	if m.tau == 0 {
		m.tau = 0.2
		if opt.Version == 1 {
			m.tau = 0.07
		}
	}
	rng := newRNG(seed)
	var err error
	if m.query, err = m.newNet(rng); err != nil {
		return nil, err
	}
	if m.key, err = m.newNet(rng); err != nil {
		return nil, err
	}
	m.ema.add(m.query.root, m.key.root)
	m.queue = newKeyQueue(opt.queueSize(cfg.DatasetSize), cfg.ProjDim, rng)
	return m, nil
}

func (m *MoCo) newNet(rng *rand.Rand) (*mocoNet, error) {
	enc, err := models.NewResNet(m.cfg.Encoder, rng)
	if err != nil {
		return nil, fmt.Errorf("moco: %w", err)
	}
	feat := enc.FeatureDim()
	var head *nn.Sequential
	switch {
	case m.opt.Version == 1:
		head = nn.LinearProjection(feat, m.cfg.ProjDim, rng)
	case m.cfg.ProjBN:
		head = nn.MLP(nn.MLPSpec{Dims: []int{feat, m.cfg.ProjHidden, m.cfg.ProjDim}, HiddenBN: true}, rng)
	default:
		head = nn.MoCoV2Projection(feat, m.cfg.ProjHidden, m.cfg.ProjDim, rng)
	}
	n := &mocoNet{encoder: enc, head: head}
	n.root = newModel(nn.Child{Name: "", Module: enc}, nn.Child{Name: "projector", Module: head})
	n.bn = newSplitBN(n.root)
	return n, nil
}

func (m *MoCo) Name() string            { return "moco" }
func (m *MoCo) Model() nn.Module        { return m.query.root }
func (m *MoCo) Encoder() *models.ResNet { return m.query.encoder }

// Temperature returns τ.
func (m *MoCo) Temperature() float32 { return m.tau }

// QueueSize returns K.
func (m *MoCo) QueueSize() int { return m.queue.Len() }

// Loss is the forward half of Algorithm 1 for the batch's two views
// (x_q = Views[0], x_k = Views[1]): the InfoNCE loss of the queries
// against their keys and the queue. The keys are computed without a graph
// and kept for AfterStep.
func (m *MoCo) Loss(b Batch) *autograd.Value {
	if len(b.Views) != 2 {
		panic(fmt.Sprintf("moco: want 2 views per image, got %d", len(b.Views)))
	}
	xq, xk := b.Views[0], b.Views[1]
	if !tensor.SameShape(xq, xk) {
		panic(fmt.Sprintf("moco: query views %v and key views %v differ", xq.Shape(), xk.Shape()))
	}
	if distributed(m.comm) {
		return m.distLoss(xq, xk, b.Step)
	}
	s := m.splits(xq.Dim(0))

	// q = f_q(x_q): N×C, normalised.
	q := autograd.L2Normalize(concat(m.query.bn.forward(m.query.forward, xq, s)), 1e-12)

	// k = f_k(x_k): N×C, normalised, no gradient (shuffling BN). Inference
	// is NoGrad that also returns the key pass's buffers to the pool.
	autograd.Inference(func(func(*autograd.Value)) { m.encodeKeys(xk, s, b.Step) })

	// logits N×(1+K) = [lPos, lNeg]/τ, labels zeros: loss.InfoNCE.
	return loss.InfoNCE(q, autograd.Const(m.k), autograd.Const(m.queue.Keys), m.tau)
}

// splits returns the number of BN sub-batches for a batch of n.
func (m *MoCo) splits(n int) int { return max(1, min(m.opt.BNSplits, n/2)) }

// encodeKeys computes k = normalize(f_k(x_k)) into m.k, in the batch's
// order. With s > 1 sub-batches the views are first permuted (shuffling
// BN, see MoCo) and the keys un-permuted afterwards. It runs inside
// autograd.Inference, which frees every intermediate afterwards.
func (m *MoCo) encodeKeys(xk *tensor.Tensor, s, step int) {
	n := xk.Dim(0)
	perm := make([]int, n) // shuffled row j is image perm[j]
	for i := range perm {
		perm[i] = i
	}
	x := xk
	if s > 1 {
		rng := rand.New(rand.NewPCG(m.seed^mocoShuffleSalt, uint64(step)))
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		if m.shuf == nil || !tensor.SameShape(m.shuf, xk) {
			m.shuf = tensor.New(xk.Shape()...)
		}
		row := xk.Numel() / n
		for j, i := range perm {
			copy(m.shuf.Data[j*row:(j+1)*row], xk.Data[i*row:(i+1)*row])
		}
		x = m.shuf
	}
	c := m.cfg.ProjDim
	if m.k == nil || m.k.Dim(0) != n {
		m.k = tensor.New(n, c)
	}
	j := 0
	for _, o := range m.key.bn.forward(m.key.forward, x, s) {
		z := autograd.L2Normalize(o, 1e-12)
		for r := 0; r < z.Shape()[0]; r++ {
			copy(m.k.Data[perm[j]*c:(perm[j]+1)*c], z.Data.Data[r*c:(r+1)*c])
			j++
		}
	}
	m.pending = true
}

// AfterStep is the end of Algorithm 1's loop body, after the optimizer
// step: the momentum update of f_k, then the enqueue of this step's keys
// (dequeuing the oldest).
func (m *MoCo) AfterStep(step int) {
	// f_k.params = m·f_k.params + (1−m)·f_q.params
	m.ema.update(m.momentumAt(step))
	// enqueue(queue, k); dequeue(queue)
	if m.pending {
		m.queue.enqueue(m.k)
		m.pending = false
	}
}

// momentumAt returns m for the update after optimizer step step (0-based).
func (m *MoCo) momentumAt(step int) float64 {
	return cosineMomentum(m.opt.Momentum, step, m.opt.MomentumCosineSteps)
}

// keyPrefix names f_k's tensors in State: "encoder_k.conv1.weight",
// "encoder_k.projector.0.weight", as moco/builder.py's encoder_k.
const keyPrefix = "encoder_k."

// State returns f_k's parameters and buffers (batch-norm counters as
// one-element float tensors) and the queue with its pointer. The tensors
// are live: read them before the next step.
func (m *MoCo) State() map[string]*tensor.Tensor {
	s := map[string]*tensor.Tensor{}
	for _, e := range nn.State(m.key.root) {
		if e.F32 != nil {
			s[keyPrefix+e.Name] = e.F32
		} else {
			s[keyPrefix+e.Name] = tensor.FromSlice([]float32{float32(*e.I64)}, 1)
		}
	}
	m.queue.putState(s, "queue")
	return s
}

// LoadState restores what State returned, exactly; a missing, mis-shaped
// or unexpected entry is an error naming it.
func (m *MoCo) LoadState(s map[string]*tensor.Tensor) error {
	want := map[string]bool{"queue": true, "queue_ptr": true}
	for _, e := range nn.State(m.key.root) {
		name := keyPrefix + e.Name
		want[name] = true
		t, ok := s[name]
		if !ok {
			return fmt.Errorf("moco: state has no %s", name)
		}
		if e.F32 != nil {
			if !tensor.SameShape(t, e.F32) {
				return fmt.Errorf("moco: state %s has shape %v, want %v", name, t.Shape(), e.F32.Shape())
			}
			continue
		}
		if c := t.Data; len(c) != 1 || c[0] < 0 || c[0] != float32(int64(c[0])) {
			return fmt.Errorf("moco: state %s = %v, want one non-negative integer", name, t.Data)
		}
	}
	var extra []string
	for name := range s {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("moco: unexpected state tensors %v", extra)
	}
	if err := m.queue.loadState(s, "queue"); err != nil {
		return fmt.Errorf("moco: %w", err)
	}
	for _, e := range nn.State(m.key.root) {
		t := s[keyPrefix+e.Name]
		if e.F32 != nil {
			copy(e.F32.Data, t.Data)
		} else {
			*e.I64 = int64(t.Data[0])
		}
	}
	m.pending = false
	return nil
}

// concat joins per-sub-batch outputs along the batch axis.
func concat(vs []*autograd.Value) *autograd.Value {
	if len(vs) == 1 {
		return vs[0]
	}
	return autograd.Concat(0, vs...)
}

// splitBN runs a network on contiguous sub-batches, each normalised with
// its own batch statistics by every batch norm below the network — the
// single-device stand-in for per-GPU batch norm (SplitBatchNorm in the
// MoCo authors' CIFAR-10 demo). The running statistics move once per call,
// to the mean over the sub-batches of what each would have produced alone
// from the same starting point: (1−μ)·r + μ·mean_g(stat_g) with momentum μ,
// and the batch counters grow by one.
type splitBN struct {
	states []*autograd.BatchNormState
	snap   []float32 // running mean and variance before the call
	acc    []float32 // their sum over the sub-batches
}

func newSplitBN(root nn.Module) splitBN {
	var s splitBN
	nn.Walk(root, func(_ string, m nn.Module) {
		if bn, ok := m.(*nn.BatchNorm); ok {
			s.states = append(s.states, &bn.State)
		}
	})
	return s
}

// forward returns f on each of the groups contiguous sub-batches of x
// [N, ...] (sizes differ by at most one), in order.
func (s *splitBN) forward(f func(*autograd.Value) *autograd.Value, x *tensor.Tensor, groups int) []*autograd.Value {
	n := x.Dim(0)
	if groups <= 1 {
		return []*autograd.Value{f(autograd.Const(x))}
	}
	if groups > n {
		panic(fmt.Sprintf("methods.splitBN: %d groups for a batch of %d", groups, n))
	}
	s.snap, s.acc = s.snap[:0], s.acc[:0]
	for _, st := range s.states {
		s.snap = append(s.snap, st.RunningMean.Data...)
		s.snap = append(s.snap, st.RunningVar.Data...)
	}
	s.acc = append(s.acc, make([]float32, len(s.snap))...)
	counts := make([]int64, len(s.states))
	for i, st := range s.states {
		counts[i] = st.NumBatchesTracked
	}
	outs := make([]*autograd.Value, groups)
	for g := 0; g < groups; g++ {
		s.each(func(st *autograd.BatchNormState, mean, variance []float32) {
			copy(st.RunningMean.Data, mean)
			copy(st.RunningVar.Data, variance)
		}, s.snap)
		outs[g] = f(autograd.Const(x.Slice(g*n/groups, (g+1)*n/groups)))
		s.each(func(st *autograd.BatchNormState, mean, variance []float32) {
			for i, v := range st.RunningMean.Data {
				mean[i] += v
			}
			for i, v := range st.RunningVar.Data {
				variance[i] += v
			}
		}, s.acc)
	}
	inv := 1 / float32(groups)
	s.each(func(st *autograd.BatchNormState, mean, variance []float32) {
		for i := range mean {
			st.RunningMean.Data[i] = mean[i] * inv
		}
		for i := range variance {
			st.RunningVar.Data[i] = variance[i] * inv
		}
	}, s.acc)
	for i, st := range s.states {
		st.NumBatchesTracked = counts[i] + 1
	}
	return outs
}

// each calls fn for every batch norm with its mean and variance slices of
// buf (laid out as forward's snap).
func (s *splitBN) each(fn func(st *autograd.BatchNormState, mean, variance []float32), buf []float32) {
	off := 0
	for _, st := range s.states {
		c := st.RunningMean.Numel()
		fn(st, buf[off:off+c], buf[off+c:off+2*c])
		off += 2 * c
	}
}
