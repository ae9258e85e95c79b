package methods

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// SwAV is the clustering architecture (Caron et al., "Unsupervised
// Learning of Visual Features by Contrasting Cluster Assignments",
// arXiv:2006.09882). Instead of comparing instances, it assigns each
// crop's embedding to K learnable prototypes and predicts the assignment
// ("code") of one crop from the other crops of the same image. One
// iteration of main_swav.py, for a batch of B images with V crops each:
//
//	normalise the prototypes C (here: in AfterStep, after every update)
//	z = normalize(g(f(x))) for all V·B crops     (encoder f, head g)
//	scores = z·Cᵀ                                [V·B, K]
//	for each global crop s (crops_for_assign), without gradient:
//	    out = scores of crop s, preceded by queue_s·Cᵀ when the queue is full
//	    q_s = Sinkhorn-Knopp(out, ε = 0.05, 3 iterations), last B rows
//	L = swapped prediction of q_s from every other crop, τ = 0.1
//	backward; no prototype gradient in the first FreezePrototypes
//	iterations; optimizer step
//	enqueue the global crops' embeddings (from QueueStartEpoch on)
//
// Multi-crop: the views arrive as separate indices of Batch.Views, the
// GlobalCrops high-resolution crops first, then the low-resolution local
// crops. Consecutive views of the same size go through the encoder
// together (main_swav.py's multi-resolution forward, so each resolution
// has its own batch-norm statistics); the head and the prototypes see all
// V·B crops at once. Codes come from the global crops only; predictions
// from all crops.
//
// Freezing: while frozen, Loss marks the prototype weight as not requiring
// a gradient (Value.SetRequiresGrad), so no gradient is computed for it
// and the optimizers skip it entirely — no momentum, no weight decay —
// exactly as main_swav.py's `p.grad = None` before optimizer.step().
// The flag is set from Batch.Step at every Loss, so a resumed run freezes
// the same iterations.
//
// The queue holds the last QueueLength embeddings of each global crop,
// newest first ([GlobalCrops, QueueLength, D], zero until filled); like
// main_swav.py it is used once its last row is non-zero (embeddings are
// unit vectors) and is saved in State. Loss copies the embeddings to
// enqueue; AfterStep enqueues them, after the step whose codes used the
// older queue, as the released code does.
type SwAV struct {
	cfg        Config
	opt        SwAVConfig
	tau        float32
	freeze     int // iterations with frozen prototypes
	encoder    *models.ResNet
	head       *nn.Sequential
	prototypes *nn.Prototypes
	root       *model
	inputs     []*tensor.Tensor // stacked crops per resolution, reused
	queue      *tensor.Tensor   // [A, L, D] or nil (A = GlobalCrops)
	pending    *tensor.Tensor   // [A, B, D] embeddings to enqueue in AfterStep
	hasPending bool
	codeH      float64 // mean entropy of the last batch's codes (crop 0)
	predH      float64 // mean entropy of crop 1's predictions, softmax(z·C/τ)
	comm       Comm    // the process group (Distribute), nil for one process
}

// NewSwAV builds the encoder, the projection head g (Linear → BatchNorm →
// ReLU → Linear to cfg.ProjDim = 128, SwAV's head whatever cfg.ProjBN
// says) and K prototypes, with τ = 0.1 by default. cfg.Options.SwAV is
// validated (its zero value takes the paper's defaults).
func NewSwAV(cfg Config, seed uint64) (*SwAV, error) {
	opt := cfg.Options.SwAV
	if opt == (SwAVConfig{}) {
		opt.Defaults()
	}
	if err := opt.Validate(); err != nil {
		return nil, fmt.Errorf("swav: %w", err)
	}
	if opt.Prototypes == 0 {
		opt.Prototypes = DefaultPrototypes(cfg.NumClasses, cfg.ProjDim)
	}
	if cfg.Temperature == 0 {
		cfg.Temperature = 0.1
	}
	freeze := opt.FreezePrototypes
	if freeze < 0 {
		freeze = cfg.StepsPerEpoch
	}
	rng := newRNG(seed)
	enc, err := models.NewResNet(cfg.Encoder, rng)
	if err != nil {
		return nil, fmt.Errorf("swav: %w", err)
	}
	m := &SwAV{cfg: cfg, opt: opt, tau: cfg.Temperature, freeze: freeze, encoder: enc,
		head:       nn.SwAVProjection(enc.FeatureDim(), cfg.ProjHidden, cfg.ProjDim, rng),
		prototypes: nn.NewPrototypes(cfg.ProjDim, opt.Prototypes, rng)}
	m.root = newModel(nn.Child{Name: "", Module: enc}, nn.Child{Name: "projection_head", Module: m.head},
		nn.Child{Name: "prototypes", Module: m.prototypes})
	if opt.QueueLength > 0 {
		m.queue = tensor.New(opt.GlobalCrops, opt.QueueLength, cfg.ProjDim)
	}
	return m, nil
}

// DefaultPrototypes is the number of prototypes K used when none is
// configured: 3000 (the paper's ImageNet value) when the number of
// classes is unknown, else ten times the number of classes but at least
// four times the embedding width d (512 for CIFAR-10 at d = 128, the K of
// lightly's SwAV example). With K ≤ d the embeddings can turn orthogonal
// to every prototype, which makes all scores equal and the codes and
// predictions uniform: on MNIST with K = 100 and d = 128 the loss reached
// log K within 60 steps while the spread of each embedding's scores fell
// from 0.09 to 0.003 (measured; it stayed near 0.05 with K = 512 and
// frozen prototypes).
func DefaultPrototypes(numClasses, d int) int {
	if numClasses <= 0 {
		return 3000
	}
	return max(10*numClasses, 4*d)
}

func (m *SwAV) Name() string            { return "swav" }
func (m *SwAV) Model() nn.Module        { return m.root }
func (m *SwAV) Encoder() *models.ResNet { return m.encoder }

// NumPrototypes returns K.
func (m *SwAV) NumPrototypes() int { return m.prototypes.Weight.Data.Dim(0) }

// Prototypes returns the prototype layer (weight [K, D]).
func (m *SwAV) Prototypes() *nn.Prototypes { return m.prototypes }

// Frozen reports whether the prototypes are frozen at iteration step.
func (m *SwAV) Frozen(step int) bool { return step < m.freeze }

// Loss returns the swapped-prediction loss of the batch's crops.
func (m *SwAV) Loss(b Batch) *autograd.Value {
	views := m.crops(b.Views)
	n, g := views[0].Dim(0), m.opt.GlobalCrops
	m.prototypes.Weight.SetRequiresGrad(!m.Frozen(b.Step))

	// Multi-resolution forward: runs of equally sized crops together.
	var feats []*autograd.Value
	for lo, run := 0, 0; lo < len(views); run++ {
		hi := lo + 1
		for hi < len(views) && tensor.EqualShape(views[hi].Shape(), views[lo].Shape()) {
			hi++
		}
		if run == len(m.inputs) {
			m.inputs = append(m.inputs, nil)
		}
		m.inputs[run] = stackInto(m.inputs[run], views[lo:hi]...)
		feats = append(feats, m.encoder.Forward(autograd.Const(m.inputs[run])))
		lo = hi
	}
	h := feats[0]
	if len(feats) > 1 {
		h = autograd.Concat(0, feats...) // [V·B, feat]
	}
	z := autograd.L2Normalize(m.head.Forward(h), 1e-12) // [V·B, D]
	scores := m.prototypes.Forward(z)                   // [V·B, K]

	crops := make([]int, g)
	codes := make([]*tensor.Tensor, g)
	for s := range crops {
		crops[s] = s
		codes[s] = m.codes(s, scores.Data.Slice(s*n, (s+1)*n))
	}
	if m.queue != nil && b.Epoch >= m.opt.QueueStartEpoch {
		shape := []int{g, n, m.cfg.ProjDim}
		if m.pending == nil || !tensor.EqualShape(m.pending.Shape(), shape) || distributed(m.comm) {
			m.pending = tensor.New(shape...)
		}
		copy(m.pending.Data, z.Data.Data[:g*n*m.cfg.ProjDim])
		if distributed(m.comm) {
			m.pending = m.gatherPending(m.pending)
		}
		m.hasPending = true
	}
	l := loss.SwappedPrediction(scores, codes, crops, m.tau)
	k := m.NumPrototypes()
	m.codeH = meanEntropy(codes[0].Data, n, k)
	m.predH = meanSoftmaxEntropy(scores.Data.Data[n*k:2*n*k], n, k, 1/m.tau)
	for _, q := range codes {
		tensor.Put(q)
	}
	return l
}

// Report returns the mean entropy (nats) of the last batch's codes of the
// first crop ("code_entropy") and of the second crop's predictions
// softmax(z·C/τ) ("pred_entropy"). Both start near log K; codes that stay
// there carry no signal (ε too large for the spread of the scores), and a
// loss stuck at log K with both entropies at log K is the collapse the
// prototype freeze guards against.
func (m *SwAV) Report() map[string]float64 {
	return map[string]float64{"code_entropy": m.codeH, "pred_entropy": m.predH}
}

// meanEntropy returns the mean entropy of the n rows of x [n, k], each a
// distribution.
func meanEntropy(x []float32, n, k int) float64 {
	var total float64
	for _, p := range x[:n*k] {
		if p > 0 {
			total -= float64(p) * math.Log(float64(p))
		}
	}
	return total / float64(n)
}

// meanSoftmaxEntropy returns the mean over the n rows of x [n, k] of the
// entropy of softmax(scale·row).
func meanSoftmaxEntropy(x []float32, n, k int, scale float32) float64 {
	var total float64
	for r := range n {
		row := x[r*k : (r+1)*k]
		mx := float64(row[0])
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var z, ez float64 // Σ e^u and Σ u·e^u, u = scale·(v − max)
		for _, v := range row {
			u := float64(scale) * (float64(v) - mx)
			e := math.Exp(u)
			z += e
			ez += u * e
		}
		total += math.Log(z) - ez/z // H = log Z − E[u]
	}
	return total / float64(n)
}

// crops checks the batch's views against the configuration and returns
// the global crops followed by the local crops in use.
func (m *SwAV) crops(views []*tensor.Tensor) []*tensor.Tensor {
	g := m.opt.GlobalCrops
	if len(views) < g {
		panic(fmt.Sprintf("swav: %d views per image, fewer than the %d global crops (--swav-global-crops)", len(views), g))
	}
	if local := len(views) - g; m.opt.LocalCrops > local {
		panic(fmt.Sprintf("swav: %d local crops requested (--swav-local-crops) but the augmentation makes %d", m.opt.LocalCrops, local))
	}
	views = views[:m.opt.CropsUsed(len(views))]
	if len(views) < 2 {
		panic("swav: need at least two crops per image")
	}
	for i, v := range views {
		if v.Rank() != 4 || v.Dim(0) != views[0].Dim(0) || i < g && !tensor.EqualShape(v.Shape(), views[0].Shape()) {
			panic(fmt.Sprintf("swav: view %d has shape %v, view 0 %v: want [B, H, W, C] views of B images, the %d global crops of one size", i, v.Shape(), views[0].Shape(), g))
		}
	}
	return views
}

// codes returns the codes [B, K] of global crop s from its scores [B, K]:
// Sinkhorn-Knopp over the crop's queue (once full) followed by the batch,
// keeping the batch's rows. The result comes from the tensor pool.
func (m *SwAV) codes(s int, scores *tensor.Tensor) *tensor.Tensor {
	eps, iters := float32(m.opt.Epsilon), m.opt.SinkhornIterations
	if distributed(m.comm) {
		return m.distCodes(s, scores)
	}
	if !m.queueFull(s) {
		return loss.SinkhornKnopp(scores, eps, iters)
	}
	l, d := m.queue.Dim(1), m.queue.Dim(2)
	b, k := scores.Dim(0), scores.Dim(1)
	out := tensor.GetDirty(l+b, k)
	w := m.prototypes.Weight.Data.Data
	kernels.Sgemm(false, true, l, k, d, 1, m.queue.Data[s*l*d:(s+1)*l*d], d, w, d, 0, out.Data, k)
	copy(out.Data[l*k:], scores.Data)
	q := loss.SinkhornKnopp(out, eps, iters)
	codes := tensor.GetDirty(b, k)
	copy(codes.Data, q.Data[l*k:])
	tensor.Put(q)
	tensor.Put(out)
	return codes
}

// queueFull reports whether crop s's queue is in use: its oldest row is
// non-zero (main_swav.py's `not torch.all(queue[i, -1, :] == 0)`).
func (m *SwAV) queueFull(s int) bool {
	if m.queue == nil {
		return false
	}
	l, d := m.queue.Dim(1), m.queue.Dim(2)
	for _, x := range m.queue.Data[(s*l+l-1)*d : (s*l+l)*d] {
		if x != 0 {
			return true
		}
	}
	return false
}

// AfterStep renormalises the prototypes after an update (they are
// untouched while frozen) and enqueues the global crops' embeddings kept
// by Loss: the queue shifts by B rows and the batch takes its front.
func (m *SwAV) AfterStep(step int) {
	if !m.Frozen(step) {
		m.prototypes.NormalizePrototypes()
	}
	if !m.hasPending {
		return
	}
	m.hasPending = false
	a, l, d := m.queue.Dim(0), m.queue.Dim(1), m.queue.Dim(2)
	b := m.pending.Dim(1)
	for s := 0; s < a; s++ {
		q := m.queue.Data[s*l*d : (s+1)*l*d]
		p := m.pending.Data[s*b*d : (s+1)*b*d]
		if b < l {
			copy(q[b*d:], q[:(l-b)*d]) // overlapping: copy moves like memmove
		}
		copy(q, p[:min(b, l)*d])
	}
}

// State returns the feature queue ("queue") when there is one.
func (m *SwAV) State() map[string]*tensor.Tensor {
	if m.queue == nil {
		return nil
	}
	return map[string]*tensor.Tensor{"queue": m.queue}
}

// LoadState restores the feature queue; its shape must match.
func (m *SwAV) LoadState(st map[string]*tensor.Tensor) error {
	if m.queue == nil {
		if len(st) != 0 {
			return fmt.Errorf("swav: unexpected state tensors (%d) for a run without a queue", len(st))
		}
		return nil
	}
	q, ok := st["queue"]
	switch {
	case !ok:
		return fmt.Errorf("swav: state has no queue (want [%d %d %d])", m.queue.Dim(0), m.queue.Dim(1), m.queue.Dim(2))
	case len(st) != 1:
		return fmt.Errorf("swav: unexpected state tensors: %d besides the queue", len(st)-1)
	case !tensor.SameShape(q, m.queue):
		return fmt.Errorf("swav: queue has shape %v, want %v (--swav-queue-length, --swav-global-crops, --proj-dim)", q.Shape(), m.queue.Shape())
	}
	m.queue.CopyFrom(q)
	m.hasPending = false
	return nil
}
