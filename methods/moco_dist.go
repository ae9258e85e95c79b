package methods

import (
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Distribute makes MoCo's queue and shuffling batch norm span the
// processes, as the MoCo authors' multi-GPU code does (He et al.,
// arXiv:1911.05722, §3.3: "we shuffle the sample order in the current
// mini-batch for the key encoder before distributing it among GPUs").
//
// With S = BNSplits sub-batches of the global batch B (S > 1), which must
// be a multiple of the number of processes P and divide B: the key views
// of every process are gathered, permuted with the same (seed, step)
// permutation as one process uses, process r encodes sub-batches
// [r·S/P, (r+1)·S/P) of the permuted batch, each with its own batch
// statistics, and the keys of every process are gathered and put back in
// order; the queries are encoded in S/P sub-batches of this process's
// part. The sub-batches, and so every key and query, are those of one
// process with batch B; the running statistics (each process's mean over
// its sub-batches) are averaged over the processes. With S = 1 the batch
// norms are synchronised when opt.SyncBN is set (one batch of B), local
// otherwise. In every case all B keys are enqueued, so every process
// holds the same queue, and the loss is this process's queries' mean.
func (m *MoCo) Distribute(c Comm, opt DistOptions) error {
	m.comm, m.syncBN = c, opt.SyncBN
	if !distributed(c) {
		return nil
	}
	p, b := c.Size(), opt.GlobalBatch
	if b%p != 0 {
		return fmt.Errorf("moco: global batch %d does not split into %d processes", b, p)
	}
	s := m.splits(b)
	if s > 1 && (s%p != 0 || b%s != 0) {
		return fmt.Errorf("moco: %d shuffling-BN sub-batches (--moco-bn-splits, at most batch/2) for %d processes and a global batch of %d: want a multiple of the processes that divides the batch", s, p, b)
	}
	// Per-sub-batch statistics stay local; one batch of B is synchronised.
	var sync Comm
	if s == 1 && opt.SyncBN {
		sync = c
	}
	SyncBatchNorm(m.query.root, sync)
	SyncBatchNorm(m.key.root, sync)
	return nil
}

// distLoss is Loss over P processes for this process's query and key
// views xq, xk [b, ...] (see Distribute).
func (m *MoCo) distLoss(xq, xk *tensor.Tensor, step int) *autograd.Value {
	p, r, n := m.comm.Size(), m.comm.Rank(), xq.Dim(0)
	s := m.splits(n * p)
	local := 1 // sub-batches per process
	if s > 1 {
		local = s / p
	}
	q := autograd.L2Normalize(concat(m.query.bn.forward(m.query.forward, xq, local)), 1e-12)
	autograd.Inference(func(func(*autograd.Value)) { m.encodeKeysDist(xk, s, local, step) })
	if !(s == 1 && m.syncBN) {
		m.averageRunningStats()
	}
	k := m.k.Slice(r*n, (r+1)*n) // this process's queries' positives
	return loss.InfoNCE(q, autograd.Const(k), autograd.Const(m.queue.Keys), m.tau)
}

// encodeKeysDist computes the keys of the global batch into m.k [B, C],
// in batch order, on every process.
func (m *MoCo) encodeKeysDist(xk *tensor.Tensor, s, local, step int) {
	p, r, n := m.comm.Size(), m.comm.Rank(), xk.Dim(0)
	total := n * p
	perm := make([]int, total) // shuffled row j is image perm[j]
	for i := range perm {
		perm[i] = i
	}
	x := xk
	if s > 1 {
		all := m.comm.AllGatherTensor(xk)
		rng := rand.New(rand.NewPCG(m.seed^mocoShuffleSalt, uint64(step)))
		rng.Shuffle(total, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		if m.shuf == nil || !tensor.SameShape(m.shuf, xk) {
			m.shuf = tensor.New(xk.Shape()...)
		}
		row := xk.Numel() / n
		for j := range n {
			i := perm[r*n+j]
			copy(m.shuf.Data[j*row:(j+1)*row], all.Data[i*row:(i+1)*row])
		}
		x = m.shuf
	}
	c := m.cfg.ProjDim
	part := tensor.New(n, c)
	j := 0
	for _, o := range m.key.bn.forward(m.key.forward, x, local) {
		z := autograd.L2Normalize(o, 1e-12)
		copy(part.Data[j*c:], z.Data.Data)
		j += z.Shape()[0]
	}
	keys := m.comm.AllGatherTensor(part) // row j: the key of image perm[j]
	if m.k == nil || m.k.Dim(0) != total {
		m.k = tensor.New(total, c)
	}
	for j, i := range perm {
		copy(m.k.Data[i*c:(i+1)*c], keys.Data[j*c:(j+1)*c])
	}
	m.pending = true
}

// averageRunningStats replaces the batch norms' running statistics of
// both encoders by their mean over the processes (each process's from its
// own sub-batches).
func (m *MoCo) averageRunningStats() {
	var buf []float64
	nets := []*mocoNet{m.query, m.key}
	for _, net := range nets {
		for _, st := range net.bn.states {
			for _, v := range st.RunningMean.Data {
				buf = append(buf, float64(v))
			}
			for _, v := range st.RunningVar.Data {
				buf = append(buf, float64(v))
			}
		}
	}
	m.comm.AllReduceSum(buf)
	inv := 1 / float64(m.comm.Size())
	k := 0
	for _, net := range nets {
		for _, st := range net.bn.states {
			for i := range st.RunningMean.Data {
				st.RunningMean.Data[i] = float32(buf[k] * inv)
				k++
			}
			for i := range st.RunningVar.Data {
				st.RunningVar.Data[i] = float32(buf[k] * inv)
				k++
			}
		}
	}
}
