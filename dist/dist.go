package dist

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/mpi"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Comm is a process group. It implements methods.Comm.
type Comm struct {
	c *mpi.Comm
	// blocked is the time callers spent waiting in collectives (ns).
	blocked atomic.Int64
}

// Init joins the job's process group (MPI with thread level Funneled:
// one goroutine makes every MPI call). Without -tags mpi the group is
// this process alone.
func Init() (*Comm, error) {
	c, err := mpi.Init(mpi.Funneled)
	if err != nil {
		return nil, err
	}
	return &Comm{c: c}, nil
}

// Shutdown leaves the group if Init joined one (MPI_Finalize): call it
// once, before the process exits.
func Shutdown() error { return mpi.Shutdown() }

// Enabled reports whether this build has MPI (-tags mpi).
const Enabled = mpi.Enabled

// Rank is this process's rank, 0 ≤ Rank < Size.
func (c *Comm) Rank() int { return c.c.Rank() }

// Size is the number of processes.
func (c *Comm) Size() int { return c.c.Size() }

// Finalize leaves the group (MPI_Finalize); call it once, at the end.
func (c *Comm) Finalize() error { return c.c.Finalize() }

// Blocked returns the total time callers have waited in collectives so
// far: the communication the computation did not hide.
func (c *Comm) Blocked() time.Duration { return time.Duration(c.blocked.Load()) }

// timed runs f, adding its duration to the blocked time, and panics on an
// error (see the package comment).
func (c *Comm) timed(what string, f func() error) {
	t0 := time.Now()
	err := f()
	c.blocked.Add(int64(time.Since(t0)))
	if err != nil {
		panic(fmt.Sprintf("dist: %s: %v", what, err))
	}
}

// AllReduceSum sums x over the processes, in place.
func (c *Comm) AllReduceSum(x []float64) {
	if c.Size() > 1 {
		c.timed("all-reduce", func() error { return mpi.Allreduce(c.c, x, mpi.Sum) })
	}
}

// AllReduceMax takes the element-wise maximum of x over the processes.
func (c *Comm) AllReduceMax(x []float64) {
	if c.Size() > 1 {
		c.timed("all-reduce", func() error { return mpi.Allreduce(c.c, x, mpi.Max) })
	}
}

// AllGatherTensor returns the rows of t [n, ...] of every process in rank
// order, [Size·n, ...], a new tensor.
func (c *Comm) AllGatherTensor(t *tensor.Tensor) *tensor.Tensor {
	shape := append([]int{t.Dim(0) * c.Size()}, t.Shape()[1:]...)
	out := tensor.New(shape...)
	c.timed("all-gather", func() error { return mpi.Allgather(c.c, t.Data, out.Data) })
	return out
}

// AllGatherInts gathers x of every process in rank order.
func (c *Comm) AllGatherInts(x []int) []int {
	send := make([]int64, len(x))
	for i, v := range x {
		send[i] = int64(v)
	}
	recv := make([]int64, len(x)*c.Size())
	c.timed("all-gather", func() error { return mpi.Allgather(c.c, send, recv) })
	out := make([]int, len(recv))
	for i, v := range recv {
		out[i] = int(v)
	}
	return out
}

// AllGather returns the rows of x [n, ...] of every process in rank
// order, [Size·n, ...], as a graph node whose backward is the
// reduce-scatter (sum) of the gradient: process r receives the sum over
// the processes of the gradient of rows [r·n, (r+1)·n). When every
// process computes the same loss from the gathered rows and the
// parameter gradients are then averaged over the processes, this gives
// each parameter the gradient of that loss in one process.
func (c *Comm) AllGather(x *autograd.Value) *autograd.Value {
	out := c.AllGatherTensor(x.Data)
	return autograd.Func(x, out, func(g *tensor.Tensor) *tensor.Tensor {
		gx := tensor.New(x.Shape()...)
		c.timed("reduce-scatter", func() error { return mpi.ReduceScatter(c.c, g.Data, gx.Data, mpi.Sum) })
		return gx
	})
}

// SyncBatchNorm makes every batch norm below root compute its training
// statistics over the batch of every process.
func (c *Comm) SyncBatchNorm(root nn.Module) {
	nn.Walk(root, func(_ string, m nn.Module) {
		if bn, ok := m.(*nn.BatchNorm); ok {
			bn.State.Sync = c.AllReduceSum
		}
	})
}

// Broadcast copies root's tensors into every process's (same list,
// same shapes on every process), in one broadcast.
func (c *Comm) Broadcast(ts []*tensor.Tensor, root int) {
	if c.Size() == 1 {
		return
	}
	n := 0
	for _, t := range ts {
		n += len(t.Data)
	}
	buf := make([]float32, 0, n)
	for _, t := range ts {
		buf = append(buf, t.Data...)
	}
	c.timed("broadcast", func() error { return mpi.Bcast(c.c, buf, root) })
	off := 0
	for _, t := range ts {
		off += copy(t.Data, buf[off:])
	}
}

// BroadcastInts copies root's x into every process's x.
func (c *Comm) BroadcastInts(x []int64, root int) {
	if c.Size() > 1 {
		c.timed("broadcast", func() error { return mpi.Bcast(c.c, x, root) })
	}
}
