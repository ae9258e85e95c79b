package benchstep

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
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

// Config is one benchmark run; zero fields take the defaults of Defaults.
type Config struct {
	Arch       string  // resnet18
	Stem       string  // cifar
	Width      float64 // 1
	InChannels int     // 3
	Size       int     // 32: input height and width
	Batch      int     // 64 images, 2·Batch views
	Steps      int     // 5 timed steps
	Warmup     int     // 1 untimed step (fills the buffer pool)
	ProjHidden int     // 2048
	ProjDim    int     // 128
	Tau        float32 // 0.5
	LR         float64 // 0.1
	Threads    int     // 0: GOMAXPROCS
	Seed       uint64
	// CPUProfile, if set, is written with a pprof CPU profile of the timed
	// steps.
	CPUProfile string
	// Crops, when set, replaces the two Size×Size views with groups of
	// crops of their own sizes (multi-crop, ParseCrops); the step then
	// runs unsegmented and reports forward time per group instead of per
	// stage.
	Crops []Crop
}

// Defaults fills zero fields.
func (c *Config) Defaults() {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	if c.Arch == "" {
		c.Arch = "resnet18"
	}
	if c.Stem == "" {
		c.Stem = models.StemCIFAR
	}
	if c.Width == 0 {
		c.Width = 1
	}
	def(&c.InChannels, 3)
	def(&c.Size, 32)
	def(&c.Batch, 64)
	def(&c.Steps, 5)
	def(&c.ProjHidden, 2048)
	def(&c.ProjDim, 128)
	if c.Tau == 0 {
		c.Tau = 0.5
	}
	if c.LR == 0 {
		c.LR = 0.1
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	mc := models.Config{Arch: c.Arch, Stem: c.Stem, InChannels: c.InChannels, Width: c.Width}
	if err := mc.Validate(); err != nil {
		return err
	}
	switch {
	case c.Batch < 2:
		return fmt.Errorf("benchstep: batch %d, want ≥ 2", c.Batch)
	case c.Steps < 1 || c.Warmup < 0:
		return fmt.Errorf("benchstep: steps %d and warm-up %d, want ≥ 1 and ≥ 0", c.Steps, c.Warmup)
	case c.Size < 8:
		return fmt.Errorf("benchstep: image size %d, want ≥ 8", c.Size)
	case c.ProjHidden < 1 || c.ProjDim < 1:
		return fmt.Errorf("benchstep: projection %d→%d, want positive sizes", c.ProjHidden, c.ProjDim)
	case !(c.Tau > 0):
		return fmt.Errorf("benchstep: temperature %v, want > 0", c.Tau)
	case c.Threads < 0:
		return fmt.Errorf("benchstep: threads %d, want ≥ 0", c.Threads)
	}
	for _, cr := range c.Crops {
		if cr.Count < 1 || cr.Size < 8 {
			return fmt.Errorf("benchstep: crop group %dx%d, want count ≥ 1 and size ≥ 8", cr.Count, cr.Size)
		}
	}
	if len(c.Crops) > 0 && c.Crops[0].Count < 2 {
		return fmt.Errorf("benchstep: the first crop group has %d crops, want ≥ 2", c.Crops[0].Count)
	}
	return nil
}

// StageTime is the mean time of one stage per step.
type StageTime struct {
	Stage      string  `json:"stage"`
	ForwardMS  float64 `json:"forward_ms"`
	BackwardMS float64 `json:"backward_ms"`
}

// Result is what bench step prints. ImagesPerSec counts source images (each
// seen in two views); EncoderImagesPerSec counts the 2·Batch views.
type Result struct {
	Arch                string  `json:"arch"`
	Stem                string  `json:"stem"`
	Width               float64 `json:"width"`
	Batch               int     `json:"batch"`
	Steps               int     `json:"steps"`
	Threads             int     `json:"threads"`
	Impl                string  `json:"impl"`
	Layout              string  `json:"layout"`
	ImagesPerSec        float64 `json:"images_per_sec"`
	EncoderImagesPerSec float64 `json:"encoder_images_per_sec"`
	StepMS              float64 `json:"step_ms"`
	StepMSMin           float64 `json:"step_ms_min"`
	ForwardMS           float64 `json:"forward_ms"`
	BackwardMS          float64 `json:"backward_ms"`
	OptimizerMS         float64 `json:"optimizer_ms"`
	AllocsPerStep       float64 `json:"allocs_per_step"`
	BytesPerStep        float64 `json:"bytes_per_step"`
	// PeakHeapMB is the largest live Go heap seen at the end of a forward
	// pass (the step's peak: every activation saved for backward), over
	// the timed steps; MaxRSSMB the process's peak resident set size
	// (Linux; the model, optimizer state and warm-up included).
	PeakHeapMB float64     `json:"peak_heap_mb"`
	MaxRSSMB   float64     `json:"max_rss_mb"`
	Loss       []float32   `json:"loss"`
	Split      []StageTime `json:"split"`
	// Multi-crop runs (Config.Crops): the groups, the encoder's pixels
	// per image relative to two Size×Size views, and the forward time
	// per group.
	Crops      string    `json:"crops,omitempty"`
	PixelRatio float64   `json:"pixel_ratio,omitempty"`
	GroupFwdMS []float64 `json:"group_forward_ms,omitempty"`
}

// Run builds the model and runs cfg.Warmup + cfg.Steps steps, timing the
// last cfg.Steps.
func Run(cfg Config) (*Result, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Threads > 0 {
		defer parallel.SetWorkers(parallel.SetWorkers(cfg.Threads))
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	enc, err := models.NewResNet(models.Config{Arch: cfg.Arch, Stem: cfg.Stem, InChannels: cfg.InChannels, Width: cfg.Width}, rng)
	if err != nil {
		return nil, err
	}
	head := nn.SimCLRProjection(enc.FeatureDim(), cfg.ProjHidden, cfg.ProjDim, false, rng)
	model := nn.NewNamedSequential(nn.Child{Name: "", Module: enc}, nn.Child{Name: "projector", Module: head})
	opt, err := optim.NewSGD(optim.Params(nn.Params(model)), optim.SGDConfig{LR: cfg.LR, Momentum: 0.9, WeightDecay: 1e-6})
	if err != nil {
		return nil, err
	}
	// Two views of Batch images, NHWC in [0, 1).
	x := tensor.New(2*cfg.Batch, cfg.Size, cfg.Size, cfg.InChannels)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	if len(cfg.Crops) > 0 {
		return runCrops(cfg, enc, head, opt, rng)
	}
	s := &stepper{enc: enc, head: head, opt: opt, b: cfg.Batch, tau: cfg.Tau, x: x}
	s.stages = append(enc.Stages(), models.Stage{Name: "head+loss", Forward: nil})
	s.fwd = make([]time.Duration, len(s.stages))
	s.bwd = make([]time.Duration, len(s.stages))

	for i := 0; i < cfg.Warmup; i++ {
		s.step()
	}
	s.reset()
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("benchstep: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("benchstep: cpu profile %s: %w", cfg.CPUProfile, err)
		}
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var total, best time.Duration
	res := &Result{Arch: cfg.Arch, Stem: cfg.Stem, Width: cfg.Width, Batch: cfg.Batch, Steps: cfg.Steps,
		Threads: parallel.Workers(), Impl: kernels.Impl(), Layout: "NHWC"}
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
	if cfg.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	n := float64(cfg.Steps)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 / n }
	res.StepMS = ms(total)
	res.StepMSMin = float64(best) / 1e6
	res.ImagesPerSec = float64(cfg.Batch) / (res.StepMS / 1e3)
	res.EncoderImagesPerSec = 2 * res.ImagesPerSec
	res.OptimizerMS = ms(s.optT)
	res.AllocsPerStep = float64(ms1.Mallocs-ms0.Mallocs) / n
	res.BytesPerStep = float64(ms1.TotalAlloc-ms0.TotalAlloc) / n
	res.PeakHeapMB = float64(s.peakHeap) / (1 << 20)
	res.MaxRSSMB = maxRSSMB()
	for i, st := range s.stages {
		res.Split = append(res.Split, StageTime{Stage: st.Name, ForwardMS: ms(s.fwd[i]), BackwardMS: ms(s.bwd[i])})
		res.ForwardMS += ms(s.fwd[i])
		res.BackwardMS += ms(s.bwd[i])
	}
	return res, nil
}

type stepper struct {
	enc      *models.ResNet
	head     *nn.Sequential
	opt      optim.Optimizer
	b        int
	tau      float32
	x        *tensor.Tensor
	stages   []models.Stage
	fwd, bwd []time.Duration
	optT     time.Duration
	peakHeap uint64 // bytes, HeapAlloc after the forward pass
}

func (s *stepper) reset() {
	clear(s.fwd)
	clear(s.bwd)
	s.optT = 0
	s.peakHeap = 0
}

// heapAlloc returns the bytes of live heap objects.
func heapAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// step runs one training step segment by segment and returns the loss.
func (s *stepper) step() float32 {
	k := len(s.stages)
	outs := make([]*autograd.Value, k)   // each segment's output
	inputs := make([]*autograd.Value, k) // each segment's input leaf
	in := autograd.Const(s.x)
	for i, st := range s.stages {
		inputs[i] = in
		t0 := time.Now()
		if i == k-1 {
			z := s.head.Forward(in)
			z1 := autograd.SliceAxis(z, 0, 0, s.b)
			z2 := autograd.SliceAxis(z, 0, s.b, 2*s.b)
			outs[i] = loss.NTXent(z1, z2, s.tau)
		} else {
			outs[i] = st.Forward(in)
		}
		s.fwd[i] += time.Since(t0)
		// Cut the graph: the next segment starts from a leaf that shares
		// this output's data.
		in = autograd.Param(outs[i].Data)
	}
	s.peakHeap = max(s.peakHeap, heapAlloc())
	l := outs[k-1].Item()
	t0 := time.Now()
	autograd.Backward(outs[k-1])
	s.bwd[k-1] += time.Since(t0)
	for i := k - 2; i >= 0; i-- {
		t0 := time.Now()
		if g := inputs[i+1].Grad; g != nil {
			autograd.BackwardWith(outs[i], g)
		}
		s.bwd[i] += time.Since(t0)
	}
	t0 = time.Now()
	s.opt.Step()
	s.opt.ZeroGrad()
	s.optT += time.Since(t0)
	for i := k - 1; i >= 0; i-- {
		if i > 0 {
			tensor.Put(inputs[i].Grad)
			inputs[i].Grad = nil
		}
		autograd.Free(outs[i])
	}
	return l
}
