package data

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("data: loader closed")

// LoaderConfig configures a Loader. BatchSize is required; the zero value
// of every other field is a usable default.
type LoaderConfig struct {
	BatchSize int    // images per batch, >= 1
	Seed      uint64 // seeds the shuffle and every sample's views
	Shuffle   bool   // reshuffle every epoch; false keeps dataset order
	DropLast  bool   // drop each epoch's final partial batch
	Workers   int    // augmentation goroutines; 0 means GOMAXPROCS
	Prefetch  int    // batches prepared ahead of the consumer; 0 means 2
	Epochs    int    // Next returns io.EOF once epoch Epochs would start; 0 means never
	Start     Position
	// RawViews, when set and the dataset is a RawDataset, replaces the
	// views function: it gets the image in its uint8 storage form, so an
	// augmentation can convert only what it crops (augment.MultiView's
	// ViewsU8). It must give the views that views gives on the image's
	// float32 form, from the same RNG.
	RawViews func(img augment.Image8, rng *rand.Rand) []*augment.Image
	// Shard and Shards split every batch among Shards processes of a
	// data-parallel run: this loader delivers part Shard (0-based) of
	// each batch of BatchSize samples (the global batch), samples
	// [Shard·BatchSize/Shards, (Shard+1)·BatchSize/Shards) of it, with the
	// views every process would make of them (the views depend on the
	// sample, never on the process). Positions stay those of the global
	// batches. Shards 0 or 1 means the whole batch; BatchSize must be a
	// multiple of Shards, and the epoch's last batch (with DropLast off)
	// is split the same way.
	Shard, Shards int
}

// Position is a point in the loader's sample stream: Index samples of
// epoch Epoch's order have been delivered. Starting a loader with the same
// dataset, config and views function at a Position saved from Position()
// continues exactly where the saved run stopped.
type Position struct {
	Epoch int `json:"epoch"`
	Index int `json:"index"`
}

// Batch is one batch of samples.
type Batch struct {
	// Views holds one NHWC tensor [B, H, W, C] per view index, row b from
	// sample b. The tensors come from tensor.GetDirty and the loader keeps
	// no reference: the caller may return them with tensor.Put once done.
	Views   []*tensor.Tensor
	Labels  []int // class of each sample, -1 when unlabelled
	Indices []int // dataset index of each sample
	Epoch   int   // epoch of every sample in the batch
	Step    int   // batch number within the epoch: first sample's position / BatchSize
}

// Loader delivers shuffled, augmented batches of a dataset. Worker
// goroutines augment the samples of the next Prefetch batches while the
// consumer trains on the current one. Next and Position are for one
// consumer goroutine; Close may be called from any goroutine.
type Loader struct {
	ds    Dataset
	cfg   LoaderConfig
	views func(*augment.Image, *rand.Rand) []*augment.Image
	n     int

	quit      chan struct{}
	ready     chan *pending // batches in order, at most Prefetch queued
	jobs      chan job
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu  sync.Mutex
	pos Position
	err error // sticky
}

// pending is a batch being augmented.
type pending struct {
	b     Batch
	next  Position // the position after this batch
	left  atomic.Int32
	done  chan struct{}
	alloc sync.Once // allocates b.Views from the first finished sample
	mu    sync.Mutex
	err   error
}

type job struct {
	p    *pending
	slot int
}

// NewLoader starts a loader over ds. views is the augmentation: it gets
// one image and an RNG seeded from (Seed, epoch, dataset index) and
// returns the sample's views (nil views means one view, the image itself).
// It must use no other source of randomness, and within a batch every
// sample must give the same number of views with view v of one size, so
// that the views stack into one tensor. views runs on the worker
// goroutines concurrently and may panic: the panic becomes Next's error.
func NewLoader(ds Dataset, cfg LoaderConfig, views func(img *augment.Image, rng *rand.Rand) []*augment.Image) (*Loader, error) {
	n := ds.Len()
	switch {
	case n == 0:
		return nil, fmt.Errorf("data: loader over %s: the dataset is empty", ds.Name())
	case cfg.BatchSize < 1:
		return nil, fmt.Errorf("data: loader over %s: batch size %d, want >= 1", ds.Name(), cfg.BatchSize)
	case cfg.DropLast && cfg.BatchSize > n:
		return nil, fmt.Errorf("data: loader over %s: batch size %d exceeds the %d images and DropLast would drop every batch", ds.Name(), cfg.BatchSize, n)
	case cfg.Workers < 0 || cfg.Prefetch < 0 || cfg.Epochs < 0:
		return nil, fmt.Errorf("data: loader over %s: negative Workers %d, Prefetch %d or Epochs %d", ds.Name(), cfg.Workers, cfg.Prefetch, cfg.Epochs)
	case cfg.Shards > 1 && (cfg.BatchSize%cfg.Shards != 0 || cfg.Shard < 0 || cfg.Shard >= cfg.Shards):
		return nil, fmt.Errorf("data: loader over %s: shard %d of %d for a batch of %d: want 0 <= shard < shards and the batch size a multiple of the shards", ds.Name(), cfg.Shard, cfg.Shards, cfg.BatchSize)
	case cfg.Start.Epoch < 0 || cfg.Start.Index < 0 || cfg.Start.Index > n:
		return nil, fmt.Errorf("data: loader over %s: start position %+v outside the %d images", ds.Name(), cfg.Start, n)
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Prefetch == 0 {
		cfg.Prefetch = 2
	}
	l := &Loader{
		ds: ds, cfg: cfg, views: views, n: n,
		quit:  make(chan struct{}),
		ready: make(chan *pending, cfg.Prefetch),
		jobs:  make(chan job, cfg.BatchSize),
	}
	l.pos = l.normalize(cfg.Start)
	l.wg.Add(1 + cfg.Workers)
	go l.produce()
	for range cfg.Workers {
		go l.work()
	}
	return l, nil
}

// StepsPerEpoch is the number of batches in a full epoch.
func (l *Loader) StepsPerEpoch() int {
	if l.cfg.DropLast {
		return l.n / l.cfg.BatchSize
	}
	return (l.n + l.cfg.BatchSize - 1) / l.cfg.BatchSize
}

// normalize moves a position at the end of an epoch (no further batch in
// it) to the start of the next one.
func (l *Loader) normalize(p Position) Position {
	rest := l.n - p.Index
	if rest == 0 || (l.cfg.DropLast && rest < l.cfg.BatchSize) {
		return Position{Epoch: p.Epoch + 1}
	}
	return p
}

// Position is where the loader stands: the position after the last batch
// Next returned (or the start position before the first).
func (l *Loader) Position() Position {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pos
}

// Next returns the next batch. It returns io.EOF after the last epoch
// (when Epochs is set), ErrClosed after Close, and the error of a sample
// that failed (reading the image, or a views mismatch or panic); errors
// are final.
func (l *Loader) Next() (*Batch, error) {
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	var p *pending
	select {
	case <-l.quit:
		return nil, ErrClosed
	case q, ok := <-l.ready:
		if !ok {
			return nil, io.EOF
		}
		p = q
	}
	select {
	case <-l.quit:
		return nil, ErrClosed
	case <-p.done:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.err != nil {
		for _, t := range p.b.Views {
			tensor.Put(t)
		}
		l.err = p.err
		return nil, p.err
	}
	l.pos = p.next
	return &p.b, nil
}

// Close stops the workers and waits for them; batches not yet returned are
// discarded. It is safe to call more than once and from any goroutine.
func (l *Loader) Close() error {
	l.closeOnce.Do(func() {
		close(l.quit)
		l.wg.Wait()
		for {
			select {
			case p, ok := <-l.ready:
				if !ok {
					return
				}
				for _, t := range p.b.Views {
					tensor.Put(t)
				}
			default:
				return
			}
		}
	})
	return nil
}

// splitmix64 is a 64-bit mixing function (Steele et al., SplitMix).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// order is the sample order of an epoch: a permutation drawn from a PCG
// generator seeded from (Seed, epoch), or the identity without Shuffle.
func (l *Loader) order(epoch int) []int {
	if !l.cfg.Shuffle {
		perm := make([]int, l.n)
		for i := range perm {
			perm[i] = i
		}
		return perm
	}
	rng := rand.New(rand.NewPCG(splitmix64(l.cfg.Seed^0x5eed5eed5eed5eed), splitmix64(uint64(epoch))))
	return rng.Perm(l.n)
}

// sampleSeeds are the PCG seeds of one sample's views: they depend on the
// seed, the epoch and the dataset index only, never on which worker runs.
func (l *Loader) sampleSeeds(epoch, index int) (uint64, uint64) {
	return splitmix64(l.cfg.Seed), splitmix64(uint64(epoch)<<32 ^ uint64(index))
}

// produce plans the batches in order and hands their samples to the
// workers.
func (l *Loader) produce() {
	defer l.wg.Done()
	defer close(l.jobs)
	start := l.pos
	B := l.cfg.BatchSize
	for epoch := start.Epoch; l.cfg.Epochs == 0 || epoch < l.cfg.Epochs; epoch++ {
		perm := l.order(epoch)
		idx := 0
		if epoch == start.Epoch {
			idx = start.Index
		}
		for idx < l.n && !(l.cfg.DropLast && l.n-idx < B) {
			end := min(idx+B, l.n)
			lo, hi := l.shard(idx, end)
			p := &pending{
				b: Batch{
					Indices: perm[lo:hi:hi],
					Labels:  make([]int, hi-lo),
					Epoch:   epoch,
					Step:    idx / B,
				},
				next: l.normalize(Position{Epoch: epoch, Index: end}),
				done: make(chan struct{}),
			}
			for i, k := range p.b.Indices {
				p.b.Labels[i] = l.ds.Label(k)
			}
			p.left.Store(int32(hi - lo))
			select {
			case l.ready <- p:
			case <-l.quit:
				return
			}
			for slot := range hi - lo {
				select {
				case l.jobs <- job{p, slot}:
				case <-l.quit:
					return
				}
			}
			idx = end
		}
	}
	close(l.ready)
}

// shard returns the part of the batch [idx, end) of the epoch's order
// this loader delivers (all of it without Shards).
func (l *Loader) shard(idx, end int) (lo, hi int) {
	p := l.cfg.Shards
	if p <= 1 {
		return idx, end
	}
	n := end - idx
	return idx + l.cfg.Shard*n/p, idx + (l.cfg.Shard+1)*n/p
}

// work augments samples until the jobs run out or the loader closes.
func (l *Loader) work() {
	defer l.wg.Done()
	pcg := rand.NewPCG(0, 0)
	rng := rand.New(pcg)
	for {
		select {
		case <-l.quit:
			return
		case j, ok := <-l.jobs:
			if !ok {
				return
			}
			if err := l.sample(j, pcg, rng); err != nil {
				j.p.mu.Lock()
				if j.p.err == nil {
					j.p.err = err
				}
				j.p.mu.Unlock()
			}
			if j.p.left.Add(-1) == 0 {
				close(j.p.done)
			}
		}
	}
}

// sample loads, augments and stores one sample of a batch.
func (l *Loader) sample(j job, pcg *rand.PCG, rng *rand.Rand) (err error) {
	p := j.p
	idx := p.b.Indices[j.slot]
	where := func() string {
		return fmt.Sprintf("%s sample %d (epoch %d, step %d)", l.ds.Name(), idx, p.b.Epoch, p.b.Step)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("data: views of %s panicked: %v\n%s", where(), r, debug.Stack())
		}
	}()
	var views []*augment.Image
	if rd, ok := l.ds.(RawDataset); ok && l.cfg.RawViews != nil {
		r, err := rd.Raw(idx)
		if err != nil {
			return fmt.Errorf("data: %s: %w", where(), err)
		}
		pcg.Seed(l.sampleSeeds(p.b.Epoch, idx))
		views = l.cfg.RawViews(augment.Image8{H: r.H, W: r.W, C: r.C, Pix: r.Pix}, rng)
	} else {
		img, err := l.ds.Image(idx)
		if err != nil {
			return fmt.Errorf("data: %s: %w", where(), err)
		}
		views = []*augment.Image{img}
		if l.views != nil {
			pcg.Seed(l.sampleSeeds(p.b.Epoch, idx))
			views = l.views(img, rng)
		}
	}
	for v, im := range views {
		if im == nil || len(im.Pix) != im.H*im.W*im.C || im.H < 1 || im.W < 1 || im.C < 1 {
			return fmt.Errorf("data: %s: view %d is nil or inconsistent", where(), v)
		}
	}
	B := len(p.b.Indices)
	p.alloc.Do(func() {
		p.b.Views = make([]*tensor.Tensor, len(views))
		for v, im := range views {
			p.b.Views[v] = tensor.GetDirty(B, im.H, im.W, im.C)
		}
	})
	if len(views) != len(p.b.Views) {
		return fmt.Errorf("data: %s gave %d views, another sample of the batch gave %d", where(), len(views), len(p.b.Views))
	}
	for v, im := range views {
		t := p.b.Views[v]
		if s := t.Shape(); s[1] != im.H || s[2] != im.W || s[3] != im.C {
			return fmt.Errorf("data: %s: view %d is %dx%dx%d (HxWxC) but another sample's is %dx%dx%d: every view %d of a batch must have one size (crop or resize in the augmentation)",
				where(), v, im.H, im.W, im.C, s[1], s[2], s[3], v)
		}
		size := im.H * im.W * im.C
		copy(t.Data[j.slot*size:(j.slot+1)*size], im.Pix)
	}
	return nil
}
