package video

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// Views selects what one batch sample holds.
type Views int

const (
	// Single is one clip per video (supervised training).
	Single Views = iota
	// Temporal is two clips from different, independently drawn times of
	// the same video, each with its own augmentation: the positive pair of
	// CVRL (Qian et al., arXiv:2008.03800).
	Temporal
	// Motion is an RGB clip and the frame differences of the same window
	// and crop: two modalities of one sample, as CMC pairs them (Tian et
	// al., arXiv:1906.05849).
	Motion
	// MotionOnly is Motion's second view alone (the same draws): a
	// motion stream trained without rendering the RGB clip it pairs with.
	MotionOnly
)

// LoaderConfig configures a Loader.
type LoaderConfig struct {
	Batch   int
	Seed    uint64
	Spec    ClipSpec
	Views   Views
	Augment Augment
}

// Batch is one batch of clips.
type Batch struct {
	// Views holds one [B, Frames, Size, Size, 3] tensor per view (one for
	// Single and MotionOnly, two for Temporal and Motion: RGB first,
	// motion second).
	Views   []*tensor.Tensor
	Labels  []int
	Indices []int // dataset indices
	Epoch   int
}

// Loader draws batches of clips. Batch(step) depends only on the seed and
// step: epoch e = step / StepsPerEpoch visits the videos in the order of a
// permutation seeded by (seed, e), and every sample's temporal and spatial
// draws come from a generator seeded by (seed, step, position), so a run
// resumed at any step sees exactly the clips of the uninterrupted run.
type Loader struct {
	d   *Dataset
	cfg LoaderConfig
}

// NewLoader checks cfg against d.
func NewLoader(d *Dataset, cfg LoaderConfig) (*Loader, error) {
	cfg.Spec.Defaults()
	if err := cfg.Spec.Validate(); err != nil {
		return nil, err
	}
	if cfg.Batch < 1 || cfg.Batch > d.Len() {
		return nil, fmt.Errorf("video: batch %d for %d videos in %s (want 1…%d)", cfg.Batch, d.Len(), d.Name, d.Len())
	}
	return &Loader{d: d, cfg: cfg}, nil
}

// StepsPerEpoch returns the number of whole batches in one pass over the
// videos (the last partial batch is dropped).
func (l *Loader) StepsPerEpoch() int { return l.d.Len() / l.cfg.Batch }

// Batch returns the batch of step (0-based).
func (l *Loader) Batch(step int) (*Batch, error) {
	spe := l.StepsPerEpoch()
	epoch, k := step/spe, step%spe
	perm := rand.New(rand.NewPCG(l.cfg.Seed, uint64(epoch)^0x9e3779b97f4a7c15)).Perm(l.d.Len())
	b := l.cfg.Batch
	idx := perm[k*b : (k+1)*b]
	nv := 1
	if l.cfg.Views == Temporal || l.cfg.Views == Motion {
		nv = 2
	}
	s := l.cfg.Spec
	out := &Batch{Indices: idx, Labels: make([]int, b), Epoch: epoch}
	for range nv {
		out.Views = append(out.Views, tensor.New(b, s.Frames, s.Size, s.Size, 3))
	}
	errs := make([]error, b)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for j, i := range idx {
		out.Labels[j] = l.d.Labels[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			rng := rand.New(rand.NewPCG(l.cfg.Seed^0x5bd1e995, uint64(step)*uint64(b)+uint64(j)))
			errs[j] = l.sample(i, rng, out.Views, j)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (l *Loader) sample(i int, rng *rand.Rand, views []*tensor.Tensor, j int) error {
	f, err := l.d.Frames(i)
	if err != nil {
		return err
	}
	s := l.cfg.Spec
	n := s.Numel()
	dst := func(v int) []float32 { return views[v].Data[j*n : (j+1)*n] }
	switch l.cfg.Views {
	case Single:
		s.clip(f, s.RandomStart(f.N, rng), l.cfg.Augment.draw(f.H, f.W, rng), dst(0))
	case Temporal:
		for v := range 2 {
			s.clip(f, s.RandomStart(f.N, rng), l.cfg.Augment.draw(f.H, f.W, rng), dst(v))
		}
	case Motion, MotionOnly:
		start := rng.IntN(max(1, f.N-s.Span()-s.Stride+1))
		p := l.cfg.Augment.draw(f.H, f.W, rng)
		if l.cfg.Views == MotionOnly {
			s.motion(f, start, p, dst(0))
			break
		}
		s.clip(f, start, p, dst(0))
		s.motion(f, start, p, dst(1))
	}
	return nil
}

// EvalClips returns clipsPer evenly spaced, centrally cropped clips of
// each video in idx: [len(idx)·clipsPer, Frames, Size, Size, 3], video
// after video. With motion set it returns the frame-difference view of
// the same windows instead.
func EvalClips(d *Dataset, idx []int, clipsPer int, s ClipSpec, motion bool) (*tensor.Tensor, error) {
	s.Defaults()
	out := tensor.New(len(idx)*clipsPer, s.Frames, s.Size, s.Size, 3)
	n := s.Numel()
	errs := make([]error, len(idx))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for j, i := range idx {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f, err := d.Frames(i)
			if err != nil {
				errs[j] = err
				return
			}
			p := Augment{}.draw(f.H, f.W, nil)
			nf := f.N
			if motion {
				nf = max(1, f.N-s.Stride)
			}
			for c, st := range s.EvenStarts(nf, clipsPer) {
				dst := out.Data[(j*clipsPer+c)*n : (j*clipsPer+c+1)*n]
				if motion {
					s.motion(f, st, p, dst)
				} else {
					s.clip(f, st, p, dst)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
