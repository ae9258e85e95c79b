package detection

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/detection/dataset"
	"github.com/contrastive-ssl/contrastive/optim"
)

// TrainConfig configures Train. Zero fields take the defaults of
// Defaults.
type TrainConfig struct {
	Size               int     // training crop (256)
	Epochs             int     // passes over the training images (10)
	MaxSteps           int     // stop after this many steps (0: Epochs)
	BatchSize          int     // images per step (8)
	LR                 float64 // AdamW peak learning rate (1e-3)
	WeightDecay        float64 // AdamW decoupled weight decay (1e-4), not on biases and norms
	WarmupSteps        int     // linear warm-up (the first 5% of the steps)
	ScaleMin, ScaleMax float64 // zoom range of the augmentation (0.6, 1.4)
	NoFlip             bool    // disable the horizontal flip
	Seed               uint64
	Mean, Std          []float32 // input normalisation (ImageNet's)
	LogEvery           int       // steps between log lines (10)
	Log                io.Writer // progress lines (nil: none)
	Metrics            io.Writer // one JSON object per logged step (nil: none)
}

// Defaults fills zero fields.
func (c *TrainConfig) Defaults() {
	if c.Size == 0 {
		c.Size = 256
	}
	if c.Epochs == 0 {
		c.Epochs = 10
	}
	if c.BatchSize == 0 {
		c.BatchSize = 8
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	if c.WeightDecay == 0 {
		c.WeightDecay = 1e-4
	}
	if c.ScaleMin == 0 {
		c.ScaleMin = 0.6
	}
	if c.ScaleMax == 0 {
		c.ScaleMax = 1.4
	}
	if c.Mean == nil {
		c.Mean, c.Std = augment.ImageNetMean, augment.ImageNetStd
	}
	if c.LogEvery == 0 {
		c.LogEvery = 10
	}
}

// Validate reports the first invalid field.
func (c TrainConfig) Validate() error {
	switch {
	case c.Size < 32 || c.Size%32 != 0:
		return fmt.Errorf("detection: size %d, want a multiple of 32", c.Size)
	case c.Epochs < 1 || c.BatchSize < 1 || c.MaxSteps < 0:
		return fmt.Errorf("detection: epochs %d, batch size %d, max steps %d: want ≥ 1, ≥ 1, ≥ 0", c.Epochs, c.BatchSize, c.MaxSteps)
	case !(c.LR > 0) || c.WeightDecay < 0:
		return fmt.Errorf("detection: lr %v, weight decay %v", c.LR, c.WeightDecay)
	case !(c.ScaleMin > 0) || c.ScaleMax < c.ScaleMin:
		return fmt.Errorf("detection: scale range [%v, %v]", c.ScaleMin, c.ScaleMax)
	case len(c.Mean) != 3 || len(c.Std) != 3:
		return fmt.Errorf("detection: mean %v and std %v, want 3 values each", c.Mean, c.Std)
	}
	return nil
}

// StepLog is one logged training step.
type StepLog struct {
	Step   int     `json:"step"`
	Epoch  int     `json:"epoch"`
	Loss   float64 `json:"loss"`
	Heat   float64 `json:"heat"`
	Size   float64 `json:"size"`
	Offset float64 `json:"offset"`
	LR     float64 `json:"lr"`
	ImgSec float64 `json:"img_per_s"`
}

// Train fits m on the examples with AdamW and a warm-up + cosine schedule,
// returning the logged steps. It stops with an error on a non-finite loss.
func Train(m *CenterNet, train []*Example, cfg TrainConfig) ([]StepLog, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, fmt.Errorf("detection: no training images")
	}
	bs := min(cfg.BatchSize, len(train))
	perEpoch := len(train) / bs
	total := perEpoch * cfg.Epochs
	if cfg.MaxSteps > 0 {
		total = min(total, cfg.MaxSteps)
	}
	warm := cfg.WarmupSteps
	if warm == 0 {
		warm = total / 20
	}
	sched := optim.WarmupCosine{Base: cfg.LR, Final: 0, Start: 0, WarmupSteps: min(warm, total), TotalSteps: total}
	m.SetTraining(true)
	opt, err := optim.NewAdamW(optim.Params(m.Params()), optim.AdamWConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay, ExcludeFromDecay: optim.ExcludeBiasAndNorm})
	if err != nil {
		return nil, err
	}
	aug := TrainAugment{Size: cfg.Size, ScaleMin: cfg.ScaleMin, ScaleMax: cfg.ScaleMax, Flip: !cfg.NoFlip, MinVisible: 0.5}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6465746563))
	var logs []StepLog
	var acc LossParts
	accN := 0
	t0 := time.Now()
	step := 0
	for epoch := 0; step < total; epoch++ {
		perm := rng.Perm(len(train))
		for b := 0; b+bs <= len(perm) && step < total; b += bs {
			imgs := make([]*augment.Image, bs)
			boxes := make([][]dataset.Box, bs)
			for i := 0; i < bs; i++ {
				imgs[i], boxes[i] = aug.Apply(train[perm[b+i]], rng)
			}
			x := autograd.Const(Batch(imgs, cfg.Mean, cfg.Std))
			out := m.Forward(x)
			tg := BuildTargets(boxes, cfg.Size, cfg.Size, m.NumClasses)
			parts, grad := Loss(out.Data, tg, DefaultLossWeights)
			if math.IsNaN(parts.Total) || math.IsInf(parts.Total, 0) {
				autograd.Free(out)
				return logs, fmt.Errorf("detection: step %d: loss is %v", step, parts.Total)
			}
			opt.SetLR(sched.At(step))
			opt.ZeroGrad()
			autograd.BackwardWith(out, grad)
			autograd.Free(out)
			opt.Step()
			step++
			acc.Total += parts.Total
			acc.Heat += parts.Heat
			acc.Size += parts.Size
			acc.Offset += parts.Offset
			accN++
			if step%cfg.LogEvery == 0 || step == total {
				n := float64(accN)
				l := StepLog{Step: step, Epoch: epoch + 1, Loss: acc.Total / n, Heat: acc.Heat / n, Size: acc.Size / n, Offset: acc.Offset / n,
					LR: opt.LR(), ImgSec: float64(step*bs) / time.Since(t0).Seconds()}
				logs = append(logs, l)
				if cfg.Log != nil {
					fmt.Fprintf(cfg.Log, "epoch %d  step %d/%d  loss %.4f (heat %.4f size %.3f offset %.3f)  lr %.3g  %.1f img/s\n",
						l.Epoch, l.Step, total, l.Loss, l.Heat, l.Size, l.Offset, l.LR, l.ImgSec)
				}
				if cfg.Metrics != nil {
					if err := json.NewEncoder(cfg.Metrics).Encode(l); err != nil {
						return logs, fmt.Errorf("detection: metrics: %w", err)
					}
				}
				acc, accN = LossParts{}, 0
			}
		}
	}
	m.SetTraining(false)
	return logs, nil
}

// Detect runs m on one prepared example and returns its detections in the
// original image's pixels.
func Detect(m *CenterNet, e *Example, mean, std []float32, opt DecodeOptions) []Detection {
	m.SetTraining(false)
	var dets []Detection
	autograd.Inference(func(keep func(*autograd.Value)) {
		out := m.Forward(autograd.Const(Batch([]*augment.Image{EvalInput(e)}, mean, std)))
		dets = Decode(out.Data, 0, m.NumClasses, opt, e.SX, e.SY, float64(e.OrigW), float64(e.OrigH))
	})
	return dets
}

// Evaluate detects every example and returns the VOC and COCO metrics
// against the original boxes.
// nil mean and std mean ImageNet's.
func Evaluate(m *CenterNet, examples []*Example, classes []string, mean, std []float32) Result {
	if mean == nil {
		mean, std = augment.ImageNetMean, augment.ImageNetStd
	}
	ev := NewEvaluator(classes)
	for _, e := range examples {
		ev.Add(e.OrigBoxes, Detect(m, e, mean, std, DecodeOptions{}))
	}
	return ev.Evaluate()
}
