package dist

import (
	"fmt"
	"time"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/mpi"
)

// DefaultBucketBytes is the gradient bucket size: PyTorch DDP's first
// bucket (1 MiB); its later buckets are 25 MiB, more than the whole
// gradient of the small encoders trained here.
const DefaultBucketBytes = 1 << 20

// GradSync averages parameter gradients over the processes, in buckets
// that start all-reducing as soon as the backward pass has finished
// their parameters (autograd.BackwardReady), so communication overlaps
// the rest of the backward pass (PyTorch DDP's reducer). The buckets
// follow the order in which the pass finishes the parameters, the same
// on every process because every process builds the same graph.
type GradSync struct {
	c           *Comm
	bucketElems int
	buckets     []*bucket // reused step after step
	used        int       // buckets filled in this step
	// Wait is the time Backward spent waiting for all-reduces after the
	// backward pass, summed over steps: communication not hidden.
	Wait time.Duration
}

type bucket struct {
	params []*autograd.Value
	n      int
	buf    []float32
	req    *mpi.Request
}

// NewGradSync returns a GradSync with buckets of about bucketBytes
// (DefaultBucketBytes when ≤ 0).
func (c *Comm) NewGradSync(bucketBytes int) *GradSync {
	if bucketBytes <= 0 {
		bucketBytes = DefaultBucketBytes
	}
	return &GradSync{c: c, bucketElems: max(1, bucketBytes/4)}
}

// Backward runs the backward pass of loss and leaves in every
// parameter's gradient its mean over the processes. With one process it
// is autograd.Backward.
func (g *GradSync) Backward(loss *autograd.Value) {
	if g.c.Size() == 1 {
		autograd.Backward(loss)
		return
	}
	g.used = 0
	autograd.BackwardReady(loss, func(v *autograd.Value) {
		b := g.current()
		b.params = append(b.params, v)
		b.n += v.Grad.Numel()
		if b.n >= g.bucketElems {
			g.start(b)
		}
	})
	if g.used > 0 && g.buckets[g.used-1].req == nil {
		g.start(g.buckets[g.used-1])
	}
	t0 := time.Now()
	p := float32(g.c.Size())
	for _, b := range g.buckets[:g.used] {
		if err := b.req.Wait(); err != nil {
			panic(fmt.Sprintf("dist: gradient all-reduce: %v", err))
		}
		off := 0
		for _, v := range b.params {
			d := v.Grad.Data
			for i := range d {
				d[i] = b.buf[off+i] / p
			}
			off += len(d)
		}
		b.req = nil
	}
	wait := time.Since(t0)
	g.Wait += wait
	g.c.blocked.Add(int64(wait))
}

// current returns the bucket being filled, opening one when the last is
// in flight.
func (g *GradSync) current() *bucket {
	if g.used > 0 && g.buckets[g.used-1].req == nil {
		return g.buckets[g.used-1]
	}
	if g.used == len(g.buckets) {
		g.buckets = append(g.buckets, &bucket{})
	}
	b := g.buckets[g.used]
	b.params, b.n, b.req = b.params[:0], 0, nil
	g.used++
	return b
}

// start copies the bucket's gradients into its buffer and starts their
// all-reduce.
func (g *GradSync) start(b *bucket) {
	if cap(b.buf) < b.n {
		b.buf = make([]float32, b.n)
	}
	b.buf = b.buf[:b.n]
	off := 0
	for _, v := range b.params {
		off += copy(b.buf[off:], v.Grad.Data)
	}
	req, err := mpi.Iallreduce(g.c.c, b.buf, mpi.Sum)
	if err != nil {
		panic(fmt.Sprintf("dist: gradient all-reduce: %v", err))
	}
	b.req = req
}
