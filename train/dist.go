package train

import (
	"context"
	"fmt"
	"strconv"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/dist"
	"github.com/contrastive-ssl/contrastive/methods"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Data-parallel training (Options.Comm with more than one process): every
// process holds the same networks and trains on its part of every global
// batch of BatchSize images (the loader's shards: process r loads
// samples [r·B/P, (r+1)·B/P) of each batch, with the views one process
// would make of them); gradients are averaged over the processes in
// buckets while the backward pass runs (dist.GradSync); with SyncBN every
// batch norm uses the statistics of the global batch; the methods gather
// what their losses couple across samples (methods.Distributed). So P
// processes with global batch B take the optimizer steps of one process
// with batch B, up to float rounding. Rank 0 alone writes the run
// directory (checkpoints, config, metrics, plot) and prints progress; on
// --resume every process reads the checkpoint, so the run directory must
// be the same on every machine (shared storage), and the number of
// processes must be the one that wrote it.

var _ methods.Comm = (*dist.Comm)(nil)

// rank is this process's rank, 0 without a group.
func (r *run) rank() int {
	if r.comm == nil {
		return 0
	}
	return r.comm.Rank()
}

// procs is the number of processes, 1 without a group.
func (r *run) procs() int {
	if r.comm == nil {
		return 1
	}
	return r.comm.Size()
}

// distribute prepares the method for the group: synchronised batch norm,
// the method's own collectives, the same initial weights everywhere, and
// the gradient averaging.
func (r *run) distribute() error {
	p := r.procs()
	if p == 1 {
		return nil
	}
	if r.cfg.BatchSize%p != 0 {
		return fmt.Errorf("config: batch_size %d (the global batch) is not a multiple of the %d processes", r.cfg.BatchSize, p)
	}
	if r.cfg.SyncBN {
		r.comm.SyncBatchNorm(r.method.Model())
	}
	if d, ok := r.method.(methods.Distributed); ok {
		if err := d.Distribute(r.comm, methods.DistOptions{SyncBN: r.cfg.SyncBN, GlobalBatch: r.cfg.BatchSize}); err != nil {
			return fmt.Errorf("%d processes: %w", p, err)
		}
	}
	// The seed gives every process the same weights already; the
	// broadcast makes sure of it, as DDP does.
	var ts []*tensor.Tensor
	for _, e := range nn.State(r.method.Model()) {
		if e.F32 != nil {
			ts = append(ts, e.F32)
		}
	}
	r.comm.Broadcast(ts, 0)
	r.grads = r.comm.NewGradSync(0)
	return nil
}

// agreeOnStart checks that every process starts at the same step (a
// resumed run whose checkpoint some process could not see would not).
func (r *run) agreeOnStart() error {
	if r.procs() == 1 {
		return nil
	}
	s := []float64{float64(r.step), -float64(r.step)}
	r.comm.AllReduceMax(s)
	if s[0] != -s[1] {
		return fmt.Errorf("the processes start at different steps (%v to %v): on --resume every process reads %s/%s, which must be the same file on every machine (shared storage)", -s[1], s[0], r.cfg.Out, CheckpointFile)
	}
	return nil
}

// checkProcesses fails when a checkpoint was written by a run with
// another number of processes: the loader's shards, and so the samples
// each process trains on, would change.
func (r *run) checkProcesses(meta map[string]string) error {
	n := 1
	if v, ok := meta["processes"]; ok {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("checkpoint metadata processes = %q, want an integer", v)
		}
	}
	if n != r.procs() {
		return fmt.Errorf("the checkpoint was written by a run of %d processes and this run has %d: resume with the same number of processes (mpirun -n %d)", n, r.procs(), n)
	}
	return nil
}

// backward runs the backward pass, averaging the gradients over the
// processes.
func (r *run) backward(loss *autograd.Value) {
	if r.grads == nil {
		autograd.Backward(loss)
		return
	}
	r.grads.Backward(loss)
}

// meanLoss is the mean over the processes of their losses: the global
// batch's loss (each process's loss is the mean over its part).
func (r *run) meanLoss(l float64) float64 {
	if r.procs() == 1 {
		return l
	}
	buf := []float64{l}
	r.comm.AllReduceSum(buf)
	return buf[0] / float64(r.procs())
}

// interrupted reports whether any process's ctx is done, so that every
// process stops at the same step.
func (r *run) interrupted(ctx context.Context) bool {
	stop := ctx.Err() != nil
	if r.procs() == 1 {
		return stop
	}
	buf := []float64{0}
	if stop {
		buf[0] = 1
	}
	r.comm.AllReduceMax(buf)
	return buf[0] > 0
}

// commPerStep returns the time per step spent waiting for communication
// since the last logged step (nil for one process).
func (r *run) commPerStep() *float64 {
	if r.procs() == 1 {
		return nil
	}
	b := r.comm.Blocked()
	steps := max(1, r.cfg.LogEvery)
	if r.step%steps != 0 {
		steps = r.step % steps
	}
	v := (b - r.blocked).Seconds() / float64(steps)
	r.blocked = b
	return &v
}
