package methods

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Distribute makes SwAV's codes those of the global batch: Sinkhorn-Knopp
// sums its prototype totals over the processes (loss.SinkhornKnoppDist,
// the released distributed_sinkhorn), and the queue, identical on every
// process, receives the embeddings of every process; process r puts rows
// [r·L/P, (r+1)·L/P) of each crop's queue of L into its Sinkhorn-Knopp,
// so the processes together use the whole queue once, as one process
// does. L must be a multiple of the number of processes.
func (m *SwAV) Distribute(c Comm, _ DistOptions) error {
	m.comm = c
	if m.queue != nil && distributed(c) && m.queue.Dim(1)%c.Size() != 0 {
		return fmt.Errorf("swav: queue length %d (--swav-queue-length) is not a multiple of the %d processes", m.queue.Dim(1), c.Size())
	}
	return nil
}

// gatherPending returns the embeddings to enqueue, [A, b, D] of this
// process, as [A, P·b, D] of the global batch in batch order.
func (m *SwAV) gatherPending(local *tensor.Tensor) *tensor.Tensor {
	a, b, d := local.Dim(0), local.Dim(1), local.Dim(2)
	p := m.comm.Size()
	out := tensor.New(a, p*b, d)
	for s := range a {
		g := m.comm.AllGatherTensor(local.Slice(s, s+1).Reshape(b, d))
		copy(out.Data[s*p*b*d:(s+1)*p*b*d], g.Data)
	}
	return out
}

// distCodes is codes over the processes: Sinkhorn-Knopp over this
// process's share of crop s's queue (once full) and its batch rows,
// reduced over the processes, keeping the batch's rows.
func (m *SwAV) distCodes(s int, scores *tensor.Tensor) *tensor.Tensor {
	eps, iters := float32(m.opt.Epsilon), m.opt.SinkhornIterations
	if !m.queueFull(s) {
		return loss.SinkhornKnoppDist(scores, eps, iters, m.comm)
	}
	l, d := m.queue.Dim(1), m.queue.Dim(2)
	p, r := m.comm.Size(), m.comm.Rank()
	lo, hi := r*l/p, (r+1)*l/p
	share := hi - lo
	b, k := scores.Dim(0), scores.Dim(1)
	out := tensor.GetDirty(share+b, k)
	w := m.prototypes.Weight.Data.Data
	kernels.Sgemm(false, true, share, k, d, 1, m.queue.Data[(s*l+lo)*d:(s*l+hi)*d], d, w, d, 0, out.Data, k)
	copy(out.Data[share*k:], scores.Data)
	q := loss.SinkhornKnoppDist(out, eps, iters, m.comm)
	codes := tensor.GetDirty(b, k)
	copy(codes.Data, q.Data[share*k:])
	tensor.Put(q)
	tensor.Put(out)
	return codes
}
