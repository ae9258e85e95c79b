package methods

import (
	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Comm is the process group of a data-parallel run, as the methods see
// it: each of Size processes holds an equal part of every global batch
// (rank r the r-th part, in order) and identical networks, and a method
// asks for the collectives its loss needs. The trainer provides it (over
// MPI); a method never talks to MPI itself.
type Comm interface {
	Rank() int
	Size() int
	// AllGather returns the rows of x [n, ...] of every process,
	// concatenated in rank order ([Size·n, ...]): the global batch's rows
	// in batch order. Its backward is the reduce-scatter (sum) of the
	// output's gradient: every process computes the same loss from the
	// gathered rows, so, with the trainer averaging parameter gradients
	// over the processes, each parameter gets the gradient of the
	// single-process loss.
	AllGather(x *autograd.Value) *autograd.Value
	// AllGatherTensor is AllGather without a graph (a new tensor).
	AllGatherTensor(t *tensor.Tensor) *tensor.Tensor
	// AllGatherInts gathers integer slices (sample indices) in rank order.
	AllGatherInts(x []int) []int
	// AllReduceSum and AllReduceMax reduce x element-wise over the
	// processes, in place.
	AllReduceSum(x []float64)
	AllReduceMax(x []float64)
}

// Distributed is implemented by the methods whose loss couples the
// samples of a batch through more than batch norm: SimCLR's negatives,
// MoCo's queue and shuffled batch norm, SwAV's Sinkhorn-Knopp, the memory
// banks. The trainer calls Distribute once, before the first step, for a
// group of more than one process; afterwards Loss computes the loss of
// the global batch from this process's part (b.Views and b.Indices hold
// the part) and AfterStep keeps the method's state identical on every
// process. With opt.SyncBN the trainer has already made every batch norm of
// Model() synchronised (see SyncBatchNorm); a method may change that for
// its own networks (MoCo's shuffling batch norm). A method that is not
// Distributed needs nothing beyond averaged gradients and, for the
// single-process result, synchronised batch norm: its loss is a mean over
// samples.
type Distributed interface {
	Distribute(c Comm, opt DistOptions) error
}

// DistOptions are the settings of a data-parallel run a method may need.
type DistOptions struct {
	SyncBN      bool // batch-norm statistics over the global batch (--sync-bn)
	GlobalBatch int  // images per step over all processes
}

// SyncBatchNorm makes every batch norm below root compute its training
// statistics over the batch of every process of c (nil c: over this
// process's batch only).
func SyncBatchNorm(root nn.Module, c Comm) {
	var sync func([]float64)
	if c != nil && c.Size() > 1 {
		sync = c.AllReduceSum
	}
	nn.Walk(root, func(_ string, m nn.Module) {
		if bn, ok := m.(*nn.BatchNorm); ok {
			bn.State.Sync = sync
		}
	})
}

// distributed reports whether c spans more than one process.
func distributed(c Comm) bool { return c != nil && c.Size() > 1 }

// Distribute makes SimCLR's negatives those of the global batch: the
// embeddings of every process are gathered before NT-Xent.
func (m *SimCLR) Distribute(c Comm, _ DistOptions) error {
	m.comm = c
	return nil
}

// Distribute makes the bank updates and the NCE constant those of the
// global batch, so every process keeps the same bank.
func (m *bankMethod) Distribute(c Comm, _ DistOptions) error {
	m.comm = c
	return nil
}

// gatherStaged replaces the staged rows of the bank by those of every
// process, in rank order (the global batch's order, so a repeated index
// keeps its last update as in one process).
func (m *bankMethod) gatherStaged() {
	b := m.bank
	if !distributed(m.comm) || b.staged == nil {
		return
	}
	b.stagedIdx = m.comm.AllGatherInts(b.stagedIdx)
	b.staged = m.comm.AllGatherTensor(b.staged)
}

// bankTerm is the package's bankTerm with log Z estimated from the global
// batch's scores when distributed.
func (m *bankMethod) bankTerm(kind string, v, pos, noise *autograd.Value, tau float32, logZ *float32, n int) *autograd.Value {
	if kind != "softmax" && *logZ == 0 && distributed(m.comm) {
		gv := autograd.Const(m.comm.AllGatherTensor(v.Data))
		gp := autograd.Const(m.comm.AllGatherTensor(pos.Data))
		*logZ = estimateLogZ(gv, gp, noise, tau, n)
	}
	return bankTerm(kind, v, pos, noise, tau, logZ, n)
}
