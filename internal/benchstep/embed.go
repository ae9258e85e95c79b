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
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// EmbedConfig is one inference benchmark: evaluation-mode forward passes
// of a ResNet encoder over random batches, the workload of `contrastive
// bench embed` and bench/torch_embed.py.
type EmbedConfig struct {
	Arch       string  // resnet50
	Stem       string  // imagenet
	Width      float64 // 1
	InChannels int     // 3
	Size       int     // 224
	Batch      int     // 16
	Batches    int     // 5 timed batches
	Warmup     int     // 1 untimed batch
	Threads    int     // 0: GOMAXPROCS
	// Unfolded also times the autograd evaluation-mode forward (batch
	// norm as its own op, a graph per batch) on the same input.
	Unfolded bool
	// GemmSize is the side of the SGEMM timed in the same run (0: 2048;
	// negative: none).
	GemmSize int
	Seed     uint64
	// CPUProfile, if set, is written with a pprof CPU profile of the timed
	// folded batches.
	CPUProfile string
}

// Defaults fills zero fields.
func (c *EmbedConfig) Defaults() {
	if c.Arch == "" {
		c.Arch = "resnet50"
	}
	if c.Stem == "" {
		c.Stem = models.StemImageNet
	}
	if c.Width == 0 {
		c.Width = 1
	}
	if c.InChannels == 0 {
		c.InChannels = 3
	}
	if c.Size == 0 {
		c.Size = 224
	}
	if c.Batch == 0 {
		c.Batch = 16
	}
	if c.Batches == 0 {
		c.Batches = 5
	}
	if c.GemmSize == 0 {
		c.GemmSize = 2048
	}
}

// Validate reports the first invalid field.
func (c EmbedConfig) Validate() error {
	mc := models.Config{Arch: c.Arch, Stem: c.Stem, InChannels: c.InChannels, Width: c.Width}
	if err := mc.Validate(); err != nil {
		return err
	}
	switch {
	case c.Batch < 1 || c.Batches < 1 || c.Warmup < 0:
		return fmt.Errorf("benchstep: batch %d, batches %d, warm-up %d: want ≥ 1, ≥ 1, ≥ 0", c.Batch, c.Batches, c.Warmup)
	case c.Size < 8:
		return fmt.Errorf("benchstep: image size %d, want ≥ 8", c.Size)
	case c.Threads < 0:
		return fmt.Errorf("benchstep: threads %d, want ≥ 0", c.Threads)
	}
	return nil
}

// EmbedResult is what bench embed prints. GFLOPSEffective counts the
// convolutions' arithmetic (2 per multiply-add) of the images embedded
// per second; SgemmFraction is its ratio to the SGEMM measured in the same
// run on the same threads.
type EmbedResult struct {
	Arch             string  `json:"arch"`
	Stem             string  `json:"stem"`
	Width            float64 `json:"width"`
	Size             int     `json:"size"`
	Batch            int     `json:"batch"`
	Batches          int     `json:"batches"`
	Threads          int     `json:"threads"`
	Impl             string  `json:"impl"`
	Path             string  `json:"path"` // "folded"
	ImagesPerSec     float64 `json:"images_per_sec"`
	BatchMS          float64 `json:"batch_ms"`
	BatchMSMin       float64 `json:"batch_ms_min"`
	GFLOPPerImage    float64 `json:"gflop_per_image"`
	GFLOPSEffective  float64 `json:"gflops_effective"`
	SgemmGFLOPS      float64 `json:"sgemm_gflops,omitempty"`
	SgemmFraction    float64 `json:"sgemm_fraction,omitempty"`
	FoldMS           float64 `json:"fold_ms"`
	AllocsPerBatch   float64 `json:"allocs_per_batch"`
	UnfoldedPerSec   float64 `json:"unfolded_images_per_sec,omitempty"`
	UnfoldedMaxError float64 `json:"unfolded_max_rel_error,omitempty"`
}

// RunEmbed times the folded inference forward (models.Inference) and,
// when asked, the autograd evaluation-mode forward and an SGEMM, in that
// order, in one run.
func RunEmbed(cfg EmbedConfig) (*EmbedResult, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Threads > 0 {
		defer parallel.SetWorkers(parallel.SetWorkers(cfg.Threads))
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xe3bd))
	enc, err := models.NewResNet(models.Config{Arch: cfg.Arch, Stem: cfg.Stem, InChannels: cfg.InChannels, Width: cfg.Width}, rng)
	if err != nil {
		return nil, err
	}
	x := tensor.New(cfg.Batch, cfg.Size, cfg.Size, cfg.InChannels)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	res := &EmbedResult{Arch: cfg.Arch, Stem: cfg.Stem, Width: cfg.Width, Size: cfg.Size, Batch: cfg.Batch,
		Batches: cfg.Batches, Threads: parallel.Workers(), Impl: kernels.Impl(), Path: "folded"}
	t0 := time.Now()
	inf := models.NewInference(enc)
	res.FoldMS = float64(time.Since(t0)) / 1e6
	out := make([]float32, cfg.Batch*inf.FeatureDim())
	fwd := func() { inf.Forward(x, out) }
	if cfg.CPUProfile != "" {
		fwd() // the packing of the weights stays out of the profile
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("benchstep: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("benchstep: cpu profile %s: %w", cfg.CPUProfile, err)
		}
	}
	mean, best, allocs := timeBatches(cfg, fwd)
	if cfg.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	res.BatchMS, res.BatchMSMin, res.AllocsPerBatch = mean*1e3, best*1e3, allocs
	res.ImagesPerSec = float64(cfg.Batch) / mean
	res.GFLOPPerImage = inf.FLOPs(cfg.Size, cfg.Size) / 1e9
	res.GFLOPSEffective = res.GFLOPPerImage * res.ImagesPerSec

	if cfg.Unfolded {
		nn.SetTraining(enc, false)
		ref := make([]float32, len(out))
		unfolded := func() {
			autograd.Inference(func(func(*autograd.Value)) {
				copy(ref, enc.Forward(autograd.Const(x)).Data.Data)
			})
		}
		m, _, _ := timeBatches(cfg, unfolded)
		res.UnfoldedPerSec = float64(cfg.Batch) / m
		res.UnfoldedMaxError = relDiff(out, ref)
	}
	if cfg.GemmSize > 0 {
		g, err := kernels.BenchSgemm(kernels.SgemmBenchOptions{M: cfg.GemmSize, N: cfg.GemmSize, K: cfg.GemmSize, Threads: cfg.Threads})
		if err != nil {
			return nil, err
		}
		res.SgemmGFLOPS = g.GFLOPS
		res.SgemmFraction = res.GFLOPSEffective / g.GFLOPS
	}
	return res, nil
}

// timeBatches runs fn cfg.Warmup times untimed, then cfg.Batches times,
// and returns the mean and fastest seconds and the allocations per call.
func timeBatches(cfg EmbedConfig, fn func()) (mean, best float64, allocs float64) {
	for i := 0; i < cfg.Warmup; i++ {
		fn()
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var total time.Duration
	for i := 0; i < cfg.Batches; i++ {
		t0 := time.Now()
		fn()
		d := time.Since(t0)
		total += d
		if i == 0 || d.Seconds() < best {
			best = d.Seconds()
		}
	}
	runtime.ReadMemStats(&ms1)
	n := float64(cfg.Batches)
	return total.Seconds() / n, best, float64(ms1.Mallocs-ms0.Mallocs) / n
}

// relDiff returns max|a−b| / max|b|.
func relDiff(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = max(d, abs64(float64(a[i])-float64(b[i])))
		m = max(m, abs64(float64(b[i])))
	}
	if m == 0 {
		return d
	}
	return d / m
}

func abs64(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
