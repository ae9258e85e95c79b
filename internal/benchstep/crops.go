package benchstep

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/optim"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Crop is a group of views of one size: Count crops of Size×Size per
// image (SwAV's multi-crop is {2, 32}, {6, 16} on CIFAR).
type Crop struct {
	Count, Size int
}

// ParseCrops parses "2x32,6x16": comma-separated COUNTxSIZE groups.
func ParseCrops(s string) ([]Crop, error) {
	var out []Crop
	for _, f := range strings.Split(s, ",") {
		a, b, ok := strings.Cut(strings.TrimSpace(f), "x")
		n, err1 := strconv.Atoi(a)
		sz, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || n < 1 || sz < 8 {
			return nil, fmt.Errorf("benchstep: crops %q: want COUNTxSIZE groups such as 2x32,6x16 (count ≥ 1, size ≥ 8)", s)
		}
		out = append(out, Crop{n, sz})
	}
	if out[0].Count < 2 {
		return nil, fmt.Errorf("benchstep: crops %q: the first group needs at least 2 crops (the pair of global views)", s)
	}
	return out, nil
}

// CropsString formats crops as ParseCrops reads them.
func CropsString(cs []Crop) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%dx%d", c.Count, c.Size))
	}
	return strings.Join(parts, ",")
}

// cropStepper is the multi-crop step: each group of equally sized crops
// goes through the encoder as one batch (as SwAV's multi-resolution
// forward does), the features of every crop through the head, and the
// loss pairs the first global crop with every other crop (NT-Xent,
// averaged), so that every crop's forward and backward pass is paid.
type cropStepper struct {
	enc        *models.ResNet
	head       *nn.Sequential
	opt        optim.Optimizer
	b          int
	tau        float32
	xs         []*tensor.Tensor // one [Count·B, S, S, C] per group
	fwd, bwd   time.Duration
	optT       time.Duration
	groupFwd   []time.Duration
	totalViews int
	peakHeap   uint64
}

func newCropStepper(enc *models.ResNet, head *nn.Sequential, opt optim.Optimizer, cfg Config, fill func(*tensor.Tensor)) *cropStepper {
	s := &cropStepper{enc: enc, head: head, opt: opt, b: cfg.Batch, tau: cfg.Tau, groupFwd: make([]time.Duration, len(cfg.Crops))}
	for _, c := range cfg.Crops {
		x := tensor.New(c.Count*cfg.Batch, c.Size, c.Size, cfg.InChannels)
		fill(x)
		s.xs = append(s.xs, x)
		s.totalViews += c.Count
	}
	return s
}

func (s *cropStepper) reset() {
	s.fwd, s.bwd, s.optT = 0, 0, 0
	s.peakHeap = 0
	clear(s.groupFwd)
}

func (s *cropStepper) step() float32 {
	t0 := time.Now()
	feats := make([]*autograd.Value, len(s.xs))
	for g, x := range s.xs {
		tg := time.Now()
		feats[g] = s.enc.Forward(autograd.Const(x))
		s.groupFwd[g] += time.Since(tg)
	}
	h := feats[0]
	if len(feats) > 1 {
		h = autograd.Concat(0, feats...)
	}
	z := s.head.Forward(h)
	view := func(v int) *autograd.Value { return autograd.SliceAxis(z, 0, v*s.b, (v+1)*s.b) }
	var l *autograd.Value
	for v := 1; v < s.totalViews; v++ {
		lv := loss.NTXent(view(0), view(v), s.tau)
		if l == nil {
			l = lv
		} else {
			l = autograd.Add(l, lv)
		}
	}
	l = autograd.Scale(l, 1/float32(s.totalViews-1))
	val := l.Item()
	s.fwd += time.Since(t0)
	s.peakHeap = max(s.peakHeap, heapAlloc())
	t0 = time.Now()
	autograd.Backward(l)
	s.bwd += time.Since(t0)
	t0 = time.Now()
	s.opt.Step()
	s.opt.ZeroGrad()
	s.optT += time.Since(t0)
	autograd.Free(l)
	return val
}

// runCrops is Run for a multi-crop config.
func runCrops(cfg Config, enc *models.ResNet, head *nn.Sequential, opt optim.Optimizer, rng *rand.Rand) (*Result, error) {
	s := newCropStepper(enc, head, opt, cfg, func(x *tensor.Tensor) {
		for i := range x.Data {
			x.Data[i] = rng.Float32()
		}
	})
	for i := 0; i < cfg.Warmup; i++ {
		s.step()
	}
	s.reset()
	stop, err := startProfile(cfg.CPUProfile)
	if err != nil {
		return nil, err
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var total, best time.Duration
	res := &Result{Arch: cfg.Arch, Stem: cfg.Stem, Width: cfg.Width, Batch: cfg.Batch, Steps: cfg.Steps,
		Threads: parallel.Workers(), Impl: kernels.Impl(), Layout: "NHWC", Crops: CropsString(cfg.Crops)}
	for i := 0; i < cfg.Steps; i++ {
		t0 := time.Now()
		l := s.step()
		d := time.Since(t0)
		total += d
		if i == 0 || d < best {
			best = d
		}
		res.Loss = append(res.Loss, l)
	}
	runtime.ReadMemStats(&ms1)
	stop()
	n := float64(cfg.Steps)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 / n }
	res.StepMS = ms(total)
	res.StepMSMin = float64(best) / 1e6
	res.ImagesPerSec = float64(cfg.Batch) / (res.StepMS / 1e3)
	res.EncoderImagesPerSec = float64(s.totalViews) * res.ImagesPerSec
	res.ForwardMS, res.BackwardMS, res.OptimizerMS = ms(s.fwd), ms(s.bwd), ms(s.optT)
	res.AllocsPerStep = float64(ms1.Mallocs-ms0.Mallocs) / n
	res.BytesPerStep = float64(ms1.TotalAlloc-ms0.TotalAlloc) / n
	res.PeakHeapMB = float64(s.peakHeap) / (1 << 20)
	res.MaxRSSMB = maxRSSMB()
	var pix float64
	for g, c := range cfg.Crops {
		pix += float64(c.Count * c.Size * c.Size)
		res.GroupFwdMS = append(res.GroupFwdMS, ms(s.groupFwd[g]))
	}
	res.PixelRatio = pix / float64(2*cfg.Crops[0].Size*cfg.Crops[0].Size)
	return res, nil
}

// startProfile starts a CPU profile into path ("" : none) and returns
// the function that stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("benchstep: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("benchstep: cpu profile %s: %w", path, err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
