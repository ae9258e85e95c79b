package methods

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/knn"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Bank is the memory bank of the memory-bank architecture (InstDisc,
// arXiv:1805.01978 §3.2; PIRL, arXiv:1912.01991 §3.2): one feature vector
// m_i per training sample, indexed by the sample's dataset index, so that
// every step sees many negatives without a large batch.
//
// The bank is not trained. A method looks rows up for its loss (Lookup,
// Sample), copies the batch's new features aside with Stage while the
// graph is alive, and folds them in with Update from its AfterStep, after
// the optimizer step:
//
//	m_i ← normalise(μ·m_i + (1−μ)·f_i)
//
// as lemniscate.pytorch's NCEAverage does (μ = 0.5).
type Bank struct {
	// Rows [N, D] holds the unit vectors m_i.
	Rows *tensor.Tensor
	// Momentum is μ, the weight of the old row in the update.
	Momentum float32

	stagedIdx []int
	staged    *tensor.Tensor // [len(stagedIdx), D]
}

// NewBank returns a bank of n rows of dimension d initialised with random
// unit vectors (normalised Gaussian draws from rng) and EMA momentum μ.
func NewBank(n, d int, momentum float32, rng *rand.Rand) *Bank {
	if n < 1 || d < 1 {
		panic(fmt.Sprintf("methods.NewBank: %d rows of dimension %d", n, d))
	}
	rows := tensor.New(n, d)
	for i := 0; i < n; i++ {
		r := rows.Data[i*d : (i+1)*d]
		for j := range r {
			r[j] = float32(rng.NormFloat64())
		}
		normalize(r)
	}
	return &Bank{Rows: rows, Momentum: momentum}
}

// Len is the number of rows N (the dataset size).
func (b *Bank) Len() int { return b.Rows.Dim(0) }

// Dim is the feature dimension D.
func (b *Bank) Dim() int { return b.Rows.Dim(1) }

// Lookup returns the rows idx as a constant of the graph ([len(idx), D],
// copied; no gradient flows into the bank). It panics, naming the dataset
// indices, when an index lies outside the bank: the loader's sample
// indices must be stable dataset indices 0..N−1.
func (b *Bank) Lookup(idx []int) *autograd.Value {
	b.check("Lookup", idx)
	return autograd.IndexSelect(autograd.Const(b.Rows), idx)
}

// Sample draws m indices uniformly with replacement (the noise
// distribution P_n = 1/N of InstDisc's NCE) into dst, reallocated when too
// short, and returns it.
func (b *Bank) Sample(m int, rng *rand.Rand, dst []int) []int {
	if cap(dst) < m {
		dst = make([]int, m)
	}
	dst = dst[:m]
	n := b.Len()
	for i := range dst {
		dst[i] = rng.IntN(n)
	}
	return dst
}

// Stage copies the batch's features f [len(idx), D] (L2-normalised) for
// the next Update; a later Stage before Update replaces them.
func (b *Bank) Stage(idx []int, f *tensor.Tensor) {
	b.check("Stage", idx)
	if f.Rank() != 2 || f.Dim(0) != len(idx) || f.Dim(1) != b.Dim() {
		panic(fmt.Sprintf("methods.Bank.Stage: features %v for %d indices into a bank of dimension %d", f.Shape(), len(idx), b.Dim()))
	}
	b.stagedIdx = append(b.stagedIdx[:0], idx...)
	if b.staged == nil || !tensor.SameShape(b.staged, f) {
		b.staged = tensor.New(f.Shape()...)
	}
	copy(b.staged.Data, f.Data)
}

// Update applies the staged features, m_i ← normalise(μ·m_i + (1−μ)·f_i),
// and clears them. Every new row is computed from the rows before the
// update and then written in batch order, so a repeated index keeps its
// last update (lemniscate.pytorch's index_copy_). It does nothing when
// nothing is staged.
func (b *Bank) Update() {
	d := b.Dim()
	mu := b.Momentum
	for k, i := range b.stagedIdx {
		row := b.Rows.Data[i*d : (i+1)*d]
		f := b.staged.Data[k*d : (k+1)*d]
		for j := range f {
			f[j] = mu*row[j] + (1-mu)*f[j]
		}
		normalize(f)
	}
	for k, i := range b.stagedIdx {
		copy(b.Rows.Data[i*d:(i+1)*d], b.staged.Data[k*d:(k+1)*d])
	}
	b.stagedIdx = b.stagedIdx[:0]
}

// LoadRows restores the rows from a checkpoint tensor, exactly. It fails,
// before any training, when the shape is not the bank's [N, D]: a bank of
// another size was trained on another dataset.
func (b *Bank) LoadRows(t *tensor.Tensor) error {
	if t == nil {
		return fmt.Errorf("no memory bank in the checkpoint")
	}
	if t.Rank() != 2 || t.Dim(1) != b.Dim() {
		return fmt.Errorf("memory bank of shape %v, want [%d, %d]", t.Shape(), b.Len(), b.Dim())
	}
	if t.Dim(0) != b.Len() {
		return fmt.Errorf("memory bank has %d rows but the dataset has %d samples: the checkpoint was trained on another dataset", t.Dim(0), b.Len())
	}
	copy(b.Rows.Data, t.Data)
	b.stagedIdx = b.stagedIdx[:0]
	return nil
}

func (b *Bank) check(op string, idx []int) {
	n := b.Len()
	for k, i := range idx {
		if i < 0 || i >= n {
			panic(fmt.Sprintf("methods.Bank.%s: sample %d has dataset index %d outside the memory bank of %d rows (the data must have stable indices 0..N-1)", op, k, i, n))
		}
	}
}

// normalize scales r to unit L2 norm; a zero row stays zero.
func normalize(r []float32) {
	var ss float64
	for _, x := range r {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return
	}
	s := float32(1 / math.Sqrt(ss))
	for j := range r {
		r[j] *= s
	}
}

// KNNConfig configures Bank.KNN.
type KNNConfig struct {
	K           int     // neighbours (200 in InstDisc)
	Temperature float32 // vote weight exp(s/T) (0.07 in InstDisc)
	NumClasses  int
}

// KNN is InstDisc's weighted kNN classifier evaluated straight from the
// bank (arXiv:1805.01978 §3.5): no pass over the training images, because
// the bank already holds an embedding of each. Every test embedding votes
// with its K most similar bank rows under cosine similarity s, each
// weighted by exp(s/T) for its row's label; KNN returns top-1 and top-5
// accuracy. It classifies exactly as eval.KNN would with the bank as the
// training features (ties go to the lower class index).
//
//	test [M, D] (normalised here, on a copy), testLabels M, bankLabels N
func (b *Bank) KNN(test *tensor.Tensor, testLabels, bankLabels []int, cfg KNNConfig) (top1, top5 float64, err error) {
	top1, top5, err = knn.Classify(b.Rows, bankLabels, test, testLabels, knn.Config{K: cfg.K, Temperature: cfg.Temperature, NumClasses: cfg.NumClasses})
	if err != nil {
		return 0, 0, fmt.Errorf("bank %w", err)
	}
	return top1, top5, nil
}

// BankEvaluator is implemented by the memory-bank methods (InstDisc,
// PIRL). Their bank holds an embedding of every training image, so the
// kNN monitor of the paper needs only the test images to go through the
// network: Embed them in batches, then call BankKNN with the training
// set's labels by dataset index.
type BankEvaluator interface {
	// Embed maps images x [N, H, W, C] (NHWC, normalised like the
	// training views) to the L2-normalised embeddings [N, D] the bank
	// holds, with the networks in evaluation mode and no graph.
	Embed(x *tensor.Tensor) *tensor.Tensor
	// BankKNN classifies test embeddings from Embed against the bank.
	BankKNN(test *tensor.Tensor, testLabels, bankLabels []int, cfg KNNConfig) (top1, top5 float64, err error)
}

// BankInitializer is implemented by the memory-bank methods. When
// BankInit is "features", the trainer fills the bank once, before the
// first step of a fresh run, with the embeddings (Embed) of every training
// image under the initial networks, instead of the paper's random unit
// vectors: the positives are then the images' own features from the first
// step, rather than noise until each image has been seen once (a whole
// epoch), which matters on runs of a few tens of epochs.
type BankInitializer interface {
	// BankInit is "random" (the paper) or "features".
	BankInit() string
	// InitEmbed maps images x [N, H, W, C] to the embeddings the bank
	// holds as training computes them (batch norm with the batch's
	// statistics), without a graph and leaving every buffer (running
	// statistics) as it was.
	InitEmbed(x *tensor.Tensor) *tensor.Tensor
	// InitBank copies rows [N, D] into the bank, normalising each row.
	InitBank(rows *tensor.Tensor) error
}

// embedRowsTraining is embedRows with the modules in training mode (batch
// statistics, as the features the bank is updated with during training)
// and their buffers restored afterwards, so the call changes nothing.
func embedRowsTraining(root nn.Module, x *tensor.Tensor, f func(*autograd.Value) *autograd.Value) *tensor.Tensor {
	type saved struct {
		f32 *tensor.Tensor
		i64 *int64
		f   []float32
		i   int64
	}
	var keep []saved
	params := map[*tensor.Tensor]bool{}
	for _, p := range nn.Params(root) {
		params[p.Value.Data] = true
	}
	for _, e := range nn.State(root) {
		switch {
		case e.I64 != nil:
			keep = append(keep, saved{i64: e.I64, i: *e.I64})
		case !params[e.F32]:
			keep = append(keep, saved{f32: e.F32, f: append([]float32(nil), e.F32.Data...)})
		}
	}
	out := normalisedRows(x, f)
	for _, k := range keep {
		if k.i64 != nil {
			*k.i64 = k.i
		} else {
			copy(k.f32.Data, k.f)
		}
	}
	return out
}

// init copies rows into the bank (see BankInitializer.InitBank).
func (b *Bank) init(rows *tensor.Tensor) error {
	if !tensor.EqualShape(rows.Shape(), b.Rows.Shape()) {
		return fmt.Errorf("bank init: rows %v, the bank is %v", rows.Shape(), b.Rows.Shape())
	}
	d := b.Dim()
	for i := range b.Len() {
		r := b.Rows.Data[i*d : (i+1)*d]
		copy(r, rows.Data[i*d:(i+1)*d])
		normalize(r)
	}
	return nil
}

// checkBankInit validates a BankInit setting.
func checkBankInit(method, v string) error {
	switch v {
	case "", "random", "features":
		return nil
	}
	return fmt.Errorf("%s: bank init %q, want random or features", method, v)
}

// bankInit maps "" to the default, "random".
func bankInit(v string) string {
	if v == "" {
		return "random"
	}
	return v
}

// Seeds of the bank initialisation and of the noise draws, mixed with the
// run's seed so they are independent of the network initialisation.
const (
	bankStream  = 0x62616e6b // "bank"
	noiseStream = 0x6e6f6973 // "nois"
)

// estimateLogZ returns loss.NCELogZ as a float32, never exactly 0 (which
// marks "not estimated" in the state).
func estimateLogZ(v, pos, noise *autograd.Value, tau float32, n int) float32 {
	z := float32(loss.NCELogZ(v.Data, pos.Data, noise.Data, tau, n))
	if z == 0 {
		z = math.SmallestNonzeroFloat32
	}
	return z
}

// bankTerm is one term of a memory-bank loss: the softmax (InfoNCE) over
// the positive and the noise rows, or NCE with the normalising constant
// *logZ, estimated from this batch when still 0 (then kept fixed).
func bankTerm(kind string, v, pos, noise *autograd.Value, tau float32, logZ *float32, n int) *autograd.Value {
	if kind == "softmax" {
		return loss.InfoNCE(v, pos, noise, tau)
	}
	if *logZ == 0 {
		*logZ = estimateLogZ(v, pos, noise, tau, n)
	}
	return loss.NCE(v, pos, noise, tau, float64(*logZ), n)
}

// bankNormEps is torch.nn.functional.normalize's default eps.
const bankNormEps = 1e-12

// noiseRNG is the generator of step step's noise draws.
func noiseRNG(seed uint64, step int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^noiseStream, uint64(step)))
}

// embedRows runs f on x with root's modules in evaluation mode and no graph,
// and returns the L2-normalised rows, a new tensor.
func embedRows(root nn.Module, x *tensor.Tensor, f func(*autograd.Value) *autograd.Value) *tensor.Tensor {
	nn.SetTraining(root, false)
	defer nn.SetTraining(root, true)
	return normalisedRows(x, f)
}

// normalisedRows returns the L2-normalised rows of f(x), computed without
// a graph, as a new tensor.
func normalisedRows(x *tensor.Tensor, f func(*autograd.Value) *autograd.Value) *tensor.Tensor {
	var out *tensor.Tensor
	autograd.NoGrad(func() {
		out = autograd.L2Normalize(f(autograd.Const(x)), bankNormEps).Data.Clone()
	})
	return out
}

// loadBankState restores a memory-bank method's state: "memory_bank" into
// bank and "nce_log_z" [nz], which it returns. Any other entry is an error.
func loadBankState(name string, bank *Bank, s map[string]*tensor.Tensor, nz int) ([]float32, error) {
	for k := range s {
		if k != "memory_bank" && k != "nce_log_z" {
			return nil, fmt.Errorf("%s: unexpected state tensor %q", name, k)
		}
	}
	z := s["nce_log_z"]
	if z == nil || z.Numel() != nz || z.Rank() != 1 {
		shape := []int(nil)
		if z != nil {
			shape = z.Shape()
		}
		return nil, fmt.Errorf("%s: state tensor nce_log_z of shape %v, want [%d]", name, shape, nz)
	}
	if err := bank.LoadRows(s["memory_bank"]); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return append([]float32(nil), z.Data...), nil
}

// bankMethod is what InstDisc and PIRL share around their memory bank: the
// encoder, the image head whose normalised output the bank holds, the
// bank itself and how it starts. Both embed it, so its methods are theirs.
type bankMethod struct {
	root      *model
	encoder   *models.ResNet
	projector *nn.Sequential // the image head
	bank      *Bank
	start     string // the BankInit option ("" means random)
	comm      Comm   // the process group (Distribute), nil for one process
}

func (m *bankMethod) Model() nn.Module        { return m.root }
func (m *bankMethod) Encoder() *models.ResNet { return m.encoder }

// Bank is the memory bank (read-only for callers).
func (m *bankMethod) Bank() *Bank { return m.bank }

// AfterStep folds the batch's staged features into the bank.
func (m *bankMethod) AfterStep(int) {
	m.gatherStaged()
	m.bank.Update()
}

// embedding is the image's bank embedding before normalisation: the
// encoder and the image head.
func (m *bankMethod) embedding(x *autograd.Value) *autograd.Value {
	return m.projector.Forward(m.encoder.Forward(x))
}

// Embed maps images to bank embeddings (see BankEvaluator).
func (m *bankMethod) Embed(x *tensor.Tensor) *tensor.Tensor {
	return embedRows(m.root, x, m.embedding)
}

// BankKNN classifies test embeddings against the bank (see Bank.KNN).
func (m *bankMethod) BankKNN(test *tensor.Tensor, testLabels, bankLabels []int, cfg KNNConfig) (top1, top5 float64, err error) {
	return m.bank.KNN(test, testLabels, bankLabels, cfg)
}

// BankInit is the configured bank start, "random" or "features".
func (m *bankMethod) BankInit() string { return bankInit(m.start) }

// InitEmbed embeds x as training does, changing nothing (see
// BankInitializer).
func (m *bankMethod) InitEmbed(x *tensor.Tensor) *tensor.Tensor {
	return embedRowsTraining(m.root, x, m.embedding)
}

// InitBank fills the bank with rows [N, D] (see BankInitializer).
func (m *bankMethod) InitBank(rows *tensor.Tensor) error { return m.bank.init(rows) }
