package videotrain

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/video"
	"github.com/contrastive-ssl/contrastive/videomodels"
)

// DiskCache is the directory where decoded frames are kept between runs
// (video.Options.DiskCache); "" disables it. The CLI sets it from
// --frame-cache.
var DiskCache = video.DefaultCacheDir()

// Pretext names.
const (
	PretextTemporal   = "temporal"
	PretextCrossModal = "crossmodal"
)

// Method names.
const (
	MethodSimCLR = "simclr"
	MethodMoCo   = "moco"
)

// Config is a pretraining run; it is stored as JSON in the checkpoint.
type Config struct {
	Data    string // video dataset reference (video.Open)
	Out     string // run directory
	Arch    string // r3d_18 or r2plus1d_18
	Width   float64
	Method  string // simclr or moco (temporal pretext)
	Pretext string // temporal or crossmodal
	// Init2D is a 2-D ResNet-18 run or checkpoint to inflate into the
	// encoder before training (r3d_18 only).
	Init2D string

	Frames, Stride, Size int // clip shape (video.ClipSpec)
	DecodeW, DecodeH     int // decode size (video.Options)
	CacheMB              int

	Batch       int
	Steps       int // optimizer steps (0: write the initial encoder)
	LR          float64
	WeightDecay float64
	Temperature float64
	ProjDim     int
	MoCoQueue   int     // MoCo queue length
	MoCoM       float64 // MoCo key-encoder momentum
	Seed        uint64
	SaveEvery   int // checkpoint every this many steps (0: only at the end)
	// StopAt, if positive, ends the process after that many steps with a
	// checkpoint, as an interruption would; it is not saved with the run.
	StopAt int `json:"-"`
}

// Defaults fills zero fields.
func (c *Config) Defaults() {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	deff := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	if c.Arch == "" {
		c.Arch = videomodels.R3D18
	}
	if c.Method == "" {
		c.Method = MethodSimCLR
	}
	if c.Pretext == "" {
		c.Pretext = PretextTemporal
	}
	deff(&c.Width, 0.25)
	def(&c.Frames, 8)
	def(&c.Stride, 2)
	def(&c.Size, 56)
	def(&c.DecodeW, 80)
	def(&c.DecodeH, 60)
	def(&c.CacheMB, 1024)
	def(&c.Batch, 16)
	deff(&c.LR, 0.05)
	deff(&c.WeightDecay, 1e-4)
	deff(&c.Temperature, 0.1)
	def(&c.ProjDim, 128)
	def(&c.MoCoQueue, 256)
	deff(&c.MoCoM, 0.99)
}

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	if err := (videomodels.Config{Arch: c.Arch, Width: c.Width, InChannels: 3}).Validate(); err != nil {
		return err
	}
	if c.Method != MethodSimCLR && c.Method != MethodMoCo {
		return fmt.Errorf("videotrain: method %q, want simclr or moco", c.Method)
	}
	if c.Pretext != PretextTemporal && c.Pretext != PretextCrossModal {
		return fmt.Errorf("videotrain: pretext %q, want temporal or crossmodal", c.Pretext)
	}
	if c.Pretext == PretextCrossModal && c.Method != MethodSimCLR {
		return fmt.Errorf("videotrain: the cross-modal pretext uses the symmetric NT-Xent of two encoders; --method %s does not apply", c.Method)
	}
	if c.Init2D != "" && c.Arch != videomodels.R3D18 {
		return fmt.Errorf("videotrain: --init-2d needs --arch r3d_18")
	}
	if err := (video.ClipSpec{Frames: c.Frames, Stride: c.Stride, Size: c.Size}).Validate(); err != nil {
		return err
	}
	switch {
	case c.Batch < 2:
		return fmt.Errorf("videotrain: batch %d, want ≥ 2 (contrastive negatives)", c.Batch)
	case c.Steps < 0:
		return fmt.Errorf("videotrain: steps %d < 0", c.Steps)
	case !(c.LR > 0) || c.WeightDecay < 0 || !(c.Temperature > 0):
		return fmt.Errorf("videotrain: lr %g, weight decay %g, temperature %g: want lr, temperature > 0 and decay ≥ 0", c.LR, c.WeightDecay, c.Temperature)
	case c.MoCoQueue < 1 || c.MoCoM < 0 || c.MoCoM >= 1:
		return fmt.Errorf("videotrain: moco queue %d, momentum %g", c.MoCoQueue, c.MoCoM)
	case c.DecodeW < c.Size || c.DecodeH < c.Size:
		return fmt.Errorf("videotrain: decode size %dx%d smaller than the clip size %d", c.DecodeW, c.DecodeH, c.Size)
	}
	return nil
}

func (c *Config) spec() video.ClipSpec {
	return video.ClipSpec{Frames: c.Frames, Stride: c.Stride, Size: c.Size}
}

func (c *Config) videoOptions() video.Options {
	return video.Options{Width: c.DecodeW, Height: c.DecodeH, CacheBytes: c.CacheMB << 20, DiskCache: DiskCache}
}
