package videotrain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/optim"
	"github.com/contrastive-ssl/contrastive/tensor"
	"github.com/contrastive-ssl/contrastive/video"
	"github.com/contrastive-ssl/contrastive/videomodels"
)

// CheckpointFile is the checkpoint's name inside a run directory.
const CheckpointFile = "checkpoint.safetensors"

// Result summarises a pretraining run.
type Result struct {
	Steps       int     `json:"steps"`
	Loss        float64 `json:"loss"` // mean loss of the last (up to) 10 steps
	Seconds     float64 `json:"seconds"`
	ClipsPerSec float64 `json:"clips_per_s"`
}

// Pretrain runs (or, with resume, continues) the pretraining c describes,
// writing the run directory c.Out. Progress lines go to log.
func Pretrain(c Config, resume bool, log io.Writer) (Result, error) {
	c.Defaults()
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	if c.Out == "" {
		return Result{}, errors.New("videotrain: no run directory (--out)")
	}
	ckPath := filepath.Join(c.Out, CheckpointFile)
	if resume {
		saved, err := configOf(ckPath)
		if err != nil {
			return Result{}, err
		}
		if c.Steps > 0 {
			saved.Steps = c.Steps
		}
		saved.StopAt = c.StopAt
		c = saved
	}
	ds, err := video.Open(c.Data, c.videoOptions())
	if err != nil {
		return Result{}, err
	}
	views := video.Temporal
	if c.Pretext == PretextCrossModal {
		views = video.Motion
	}
	ld, err := video.NewLoader(ds, video.LoaderConfig{Batch: c.Batch, Seed: c.Seed, Spec: c.spec(), Views: views, Augment: video.SSLAugment})
	if err != nil {
		return Result{}, err
	}
	m, err := newMethod(&c, rand.New(rand.NewPCG(c.Seed, 0x71de0)))
	if err != nil {
		return Result{}, err
	}
	if c.Init2D != "" && !resume {
		if err := inflateFrom(m.encoder(), c.Init2D); err != nil {
			return Result{}, err
		}
		if mc, ok := m.(*moco); ok {
			mc.copyToKeys()
		}
	}
	params := optim.Params(nn.Params(m.root()))
	opt, err := optim.NewSGD(params, optim.SGDConfig{LR: c.LR, Momentum: 0.9, WeightDecay: c.WeightDecay, ExcludeFromDecay: optim.ExcludeBiasAndNorm})
	if err != nil {
		return Result{}, err
	}
	start := 0
	if resume {
		ck, err := checkpoint.Load(ckPath, checkpoint.Entries(nn.State(m.root())))
		if err != nil {
			return Result{}, err
		}
		if err := opt.LoadState(ck.Optimizer); err != nil {
			return Result{}, fmt.Errorf("%s: %w", ckPath, err)
		}
		if err := m.loadState(ck.Extra); err != nil {
			return Result{}, fmt.Errorf("%s: %w", ckPath, err)
		}
		start = int(ck.Step)
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return Result{}, fmt.Errorf("videotrain: %w", err)
	}
	metrics, err := os.OpenFile(filepath.Join(c.Out, "metrics.jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return Result{}, fmt.Errorf("videotrain: %w", err)
	}
	defer metrics.Close()
	sched := optim.WarmupCosine{Base: c.LR, WarmupSteps: min(10, c.Steps/10), TotalSteps: max(c.Steps, 1)}
	save := func(step int) error {
		cfg, _ := json.Marshal(c)
		return checkpoint.Save(ckPath, &checkpoint.Checkpoint{Model: checkpoint.Entries(nn.State(m.root())),
			Optimizer: opt.State(), Step: int64(step), Extra: m.state(), Config: string(cfg),
			Metadata: map[string]string{"kind": "video", "arch": c.Arch}})
	}
	fmt.Fprintf(log, "video pretrain: %s, %s over %s clips of %d videos (%d frames, stride %d, %d px), %s width %g, %d steps of %d\n",
		c.Pretext, c.Method, c.Data, ds.Len(), c.Frames, c.Stride, c.Size, c.Arch, c.Width, c.Steps, c.Batch)
	var res Result
	var recent []float64
	// Ctrl-C: finish the step, write a checkpoint, stop.
	intr := make(chan os.Signal, 1)
	signal.Notify(intr, os.Interrupt)
	defer signal.Stop(intr)
	t0 := time.Now()
	end := c.Steps
	if c.StopAt > 0 {
		end = min(end, c.StopAt)
	}
	for step := start; step < end; step++ {
		b, err := ld.Batch(step)
		if err != nil {
			return res, err
		}
		lr := sched.At(step)
		opt.SetLR(lr)
		lv := m.loss(b)
		l := float64(lv.Item())
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return res, fmt.Errorf("videotrain: step %d: loss %v; the last good checkpoint is in %s", step, l, ckPath)
		}
		autograd.Backward(lv)
		opt.Step()
		opt.ZeroGrad()
		autograd.Free(lv)
		m.afterStep()
		recent = append(recent, l)
		if len(recent) > 10 {
			recent = recent[1:]
		}
		el := time.Since(t0).Seconds()
		rate := float64((step-start+1)*c.Batch) / el
		line, _ := json.Marshal(map[string]any{"step": step + 1, "epoch": b.Epoch, "loss": l, "lr": lr, "clips_per_s": rate})
		metrics.Write(append(line, '\n'))
		if (step+1)%10 == 0 || step+1 == end {
			fmt.Fprintf(log, "step %d/%d  loss %.4f  lr %.4f  %.1f clips/s\n", step+1, c.Steps, l, lr, rate)
		}
		if c.SaveEvery > 0 && (step+1)%c.SaveEvery == 0 {
			if err := save(step + 1); err != nil {
				return res, err
			}
		}
		res.ClipsPerSec = rate
		select {
		case <-intr:
			if err := save(step + 1); err != nil {
				return res, err
			}
			return res, fmt.Errorf("videotrain: interrupted after step %d; checkpoint written, continue with --resume --out %s", step+1, c.Out)
		default:
		}
	}
	if err := save(max(end, start)); err != nil {
		return res, err
	}
	res.Steps = max(end, start)
	res.Seconds = time.Since(t0).Seconds()
	for _, l := range recent {
		res.Loss += l / float64(len(recent))
	}
	return res, nil
}

// configOf reads the run config stored in a video checkpoint.
func configOf(file string) (Config, error) {
	f, err := safetensors.Read(file)
	if err != nil {
		return Config{}, fmt.Errorf("videotrain: %w", err)
	}
	var c Config
	if f.Metadata["kind"] != "video" {
		return c, fmt.Errorf("videotrain: %s is not a video run's checkpoint", file)
	}
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &c); err != nil {
		return c, fmt.Errorf("videotrain: %s: no readable run config: %w", file, err)
	}
	return c, nil
}

func checkpointFile(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, CheckpointFile)
	}
	return path
}

// inflateFrom inflates the 2-D ResNet-18 of a run or checkpoint into enc.
func inflateFrom(enc *videomodels.VideoResNet, path string) error {
	file := checkpointFile(path)
	f, err := safetensors.Read(file)
	if err != nil {
		return fmt.Errorf("videotrain: --init-2d: %w", err)
	}
	src := map[string]*tensor.Tensor{}
	for _, n := range f.Names() {
		if t, err := f.Float32(n); err == nil {
			src[n] = t
		} else {
			src[n] = tensor.New() // integer counters
		}
	}
	if err := videomodels.Inflate(enc, src); err != nil {
		return fmt.Errorf("videotrain: --init-2d %s: %w", file, err)
	}
	return nil
}

// LoadEncoder rebuilds a video run's RGB encoder from its checkpoint.
func LoadEncoder(path string) (*videomodels.VideoResNet, Config, error) {
	return loadEncoder(path, false)
}

// LoadMotionEncoder reads the motion encoder of a cross-modal run (its
// tensors under motion_encoder.*) or, for a run without one, the
// encoder LoadEncoder reads.
func LoadMotionEncoder(path string) (*videomodels.VideoResNet, Config, error) {
	return loadEncoder(path, true)
}

// loadEncoder reads the encoder of a video run or checkpoint: with motion
// set, a cross-modal run's motion encoder.
func loadEncoder(path string, motion bool) (*videomodels.VideoResNet, Config, error) {
	file := checkpointFile(path)
	c, err := configOf(file)
	if err != nil {
		return nil, c, err
	}
	enc, err := videomodels.New(videomodels.Config{Arch: c.Arch, Width: c.Width}, rand.New(rand.NewPCG(c.Seed, 0)))
	if err != nil {
		return nil, c, err
	}
	var root nn.Module = enc
	if motion && c.Pretext == PretextCrossModal {
		root = &rootModule{[]nn.Child{{Name: "motion_encoder", Module: enc}}}
	}
	if _, err := checkpoint.LoadModel(file, checkpoint.Entries(nn.State(root)), checkpoint.LoadOptions{IgnoreUnexpected: true}); err != nil {
		return nil, c, err
	}
	return enc, c, nil
}
