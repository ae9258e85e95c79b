package videotrain

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/optim"
	"github.com/contrastive-ssl/contrastive/tensor"
	"github.com/contrastive-ssl/contrastive/video"
	"github.com/contrastive-ssl/contrastive/videomodels"
)

// Evaluation kinds.
const (
	EvalLinear   = "linear"
	EvalFinetune = "finetune"
)

// Evaluation modalities: what the encoder sees.
const (
	// ModalityRGB feeds RGB clips to the run's (RGB) encoder.
	ModalityRGB = "rgb"
	// ModalityMotion feeds the frame differences of the same windows
	// (the cross-modal pretext's second view) to the run's motion encoder
	// when it has one (a cross-modal run), else to its encoder: the
	// motion stream of a two-stream network, which sees how things move
	// and not the scene they move in.
	ModalityMotion = "motion"
)

// EvalConfig configures Evaluate. Zero fields take defaults; the clip
// shape and decode size are the pretraining run's.
type EvalConfig struct {
	Checkpoint  string
	Train, Test string
	Kind        string  // linear or finetune
	Epochs      int     // linear: 100 over the features; finetune: 10 over the videos
	Batch       int     // finetune batch (8)
	LR          float64 // linear 0.1 (standardised features), finetune 0.01
	Clips       int     // evaluation clips per video (4)
	Modality    string  // rgb (default) or motion
	Seed        uint64
}

// EvalResult is what `contrastive eval video` prints.
type EvalResult struct {
	ClipTop1  float64 `json:"clip_top1"`  // percent of test clips classified right
	VideoTop1 float64 `json:"video_top1"` // percent of test videos, scores averaged over their clips
	Clips     int     `json:"clips"`
	Videos    int     `json:"videos"`
}

func (e *EvalConfig) defaults() {
	if e.Kind == "" {
		e.Kind = EvalLinear
	}
	if e.Epochs == 0 {
		e.Epochs = map[string]int{EvalLinear: 100, EvalFinetune: 10}[e.Kind]
	}
	if e.Batch == 0 {
		e.Batch = 8
	}
	if e.LR == 0 {
		e.LR = map[string]float64{EvalLinear: 0.1, EvalFinetune: 0.01}[e.Kind]
	}
	if e.Clips == 0 {
		e.Clips = 4
	}
	if e.Modality == "" {
		e.Modality = ModalityRGB
	}
}

// Evaluate trains a classifier on the labelled train split over the
// checkpoint's encoder (frozen for linear, fine-tuned for finetune) and
// reports clip- and video-level top-1 on the test split.
func Evaluate(ec EvalConfig, log io.Writer) (EvalResult, error) {
	ec.defaults()
	if ec.Kind != EvalLinear && ec.Kind != EvalFinetune {
		return EvalResult{}, fmt.Errorf("videotrain: eval kind %q, want linear or finetune", ec.Kind)
	}
	if ec.Modality != ModalityRGB && ec.Modality != ModalityMotion {
		return EvalResult{}, fmt.Errorf("videotrain: eval modality %q, want %s or %s", ec.Modality, ModalityRGB, ModalityMotion)
	}
	if ec.Epochs < 1 || ec.Batch < 1 || !(ec.LR > 0) || ec.Clips < 1 {
		return EvalResult{}, fmt.Errorf("videotrain: eval epochs %d, batch %d, lr %g, clips %d: all must be positive", ec.Epochs, ec.Batch, ec.LR, ec.Clips)
	}
	motion := ec.Modality == ModalityMotion
	enc, c, err := loadEncoder(ec.Checkpoint, motion)
	if err != nil {
		return EvalResult{}, err
	}
	tr, err := video.Open(ec.Train, c.videoOptions())
	if err != nil {
		return EvalResult{}, err
	}
	te, err := video.Open(ec.Test, c.videoOptions())
	if err != nil {
		return EvalResult{}, err
	}
	classes := max(tr.NumClasses(), te.NumClasses())
	if tr.NumClasses() < 2 {
		return EvalResult{}, fmt.Errorf("videotrain: %s has %d classes, want ≥ 2", ec.Train, tr.NumClasses())
	}
	spec := c.spec()
	rng := rand.New(rand.NewPCG(ec.Seed, 0xe7a1))
	head := nn.NewLinear(enc.FeatureDim(), classes, true, rng)
	var mean, std []float32
	if ec.Kind == EvalLinear {
		x, y, err := features(enc, tr, ec.Clips, spec, motion)
		if err != nil {
			return EvalResult{}, err
		}
		mean, std = columnStats(x)
		standardize(x, mean, std)
		if err := fitLinear(head, x, y, ec, rng); err != nil {
			return EvalResult{}, err
		}
	} else {
		if err := finetune(enc, head, tr, spec, motion, ec, log); err != nil {
			return EvalResult{}, err
		}
	}
	x, _, err := features(enc, te, ec.Clips, spec, motion)
	if err != nil {
		return EvalResult{}, err
	}
	if mean != nil {
		standardize(x, mean, std)
	}
	var logits *tensor.Tensor
	autograd.NoGrad(func() { logits = head.Forward(autograd.Const(x)).Data })
	return score(logits, te.Labels, ec.Clips, classes), nil
}

// features returns the eval-mode encoder features of clips evenly spaced
// clips per video [videos·clips, D] (of their frame differences with
// motion set) and their labels.
func features(enc *videomodels.VideoResNet, ds *video.Dataset, clips int, spec video.ClipSpec, motion bool) (*tensor.Tensor, []int, error) {
	nn.SetTraining(enc, false)
	defer nn.SetTraining(enc, true)
	d := enc.FeatureDim()
	out := tensor.New(ds.Len()*clips, d)
	labels := make([]int, 0, ds.Len()*clips)
	const chunk = 4 // videos per forward pass
	for v0 := 0; v0 < ds.Len(); v0 += chunk {
		idx := make([]int, 0, chunk)
		for v := v0; v < min(v0+chunk, ds.Len()); v++ {
			idx = append(idx, v)
			for range clips {
				labels = append(labels, ds.Labels[v])
			}
		}
		x, err := video.EvalClips(ds, idx, clips, spec, motion)
		if err != nil {
			return nil, nil, err
		}
		autograd.Inference(func(keep func(*autograd.Value)) {
			f := enc.Forward(autograd.Const(x))
			copy(out.Data[v0*clips*d:], f.Data.Data)
		})
	}
	return out, labels, nil
}

// fitLinear trains head on standardised features with SGD (momentum 0.9,
// batches of 64, cosine learning rate).
func fitLinear(head *nn.Linear, x *tensor.Tensor, y []int, ec EvalConfig, rng *rand.Rand) error {
	opt, err := optim.NewSGD(optim.Params(nn.Params(head)), optim.SGDConfig{LR: ec.LR, Momentum: 0.9, WeightDecay: 1e-4})
	if err != nil {
		return err
	}
	n, d := x.Dim(0), x.Dim(1)
	const bs = 64
	steps := ec.Epochs * ((n + bs - 1) / bs)
	sched := optim.WarmupCosine{Base: ec.LR, TotalSteps: steps}
	step := 0
	for range ec.Epochs {
		perm := rng.Perm(n)
		for b0 := 0; b0 < n; b0 += bs {
			idx := perm[b0:min(b0+bs, n)]
			xb := tensor.New(len(idx), d)
			yb := make([]int, len(idx))
			for j, i := range idx {
				copy(xb.Data[j*d:(j+1)*d], x.Data[i*d:(i+1)*d])
				yb[j] = y[i]
			}
			opt.SetLR(sched.At(step))
			l := autograd.CrossEntropy(head.Forward(autograd.Const(xb)), yb)
			autograd.Backward(l)
			opt.Step()
			opt.ZeroGrad()
			autograd.Free(l)
			step++
		}
	}
	return nil
}

// finetune trains encoder and head end to end on random training clips
// (crop and flip augmentation) with SGD, momentum 0.9, cosine schedule.
func finetune(enc *videomodels.VideoResNet, head *nn.Linear, tr *video.Dataset, spec video.ClipSpec, motion bool, ec EvalConfig, log io.Writer) error {
	views := video.Single
	if motion {
		views = video.MotionOnly
	}
	ld, err := video.NewLoader(tr, video.LoaderConfig{Batch: min(ec.Batch, tr.Len()), Seed: ec.Seed ^ 0xf1e7, Spec: spec, Views: views, Augment: video.TrainAugment})
	if err != nil {
		return err
	}
	params := append(optim.Params(nn.Params(enc)), optim.Params(nn.Params(head))...)
	opt, err := optim.NewSGD(params, optim.SGDConfig{LR: ec.LR, Momentum: 0.9, WeightDecay: 1e-4, ExcludeFromDecay: optim.ExcludeBiasAndNorm})
	if err != nil {
		return err
	}
	steps := ec.Epochs * ld.StepsPerEpoch()
	sched := optim.WarmupCosine{Base: ec.LR, WarmupSteps: min(10, steps/10), TotalSteps: steps}
	nn.SetTraining(enc, true)
	for step := 0; step < steps; step++ {
		b, err := ld.Batch(step)
		if err != nil {
			return err
		}
		opt.SetLR(sched.At(step))
		l := autograd.CrossEntropy(head.Forward(enc.Forward(autograd.Const(b.Views[0]))), b.Labels)
		lv := float64(l.Item())
		if math.IsNaN(lv) || math.IsInf(lv, 0) {
			return fmt.Errorf("videotrain: fine-tuning step %d: loss %v", step, lv)
		}
		autograd.Backward(l)
		opt.Step()
		opt.ZeroGrad()
		autograd.Free(l)
		if (step+1)%20 == 0 || step+1 == steps {
			fmt.Fprintf(log, "finetune step %d/%d  loss %.4f\n", step+1, steps, lv)
		}
	}
	return nil
}

// score computes clip-level top-1 from logits [videos·clips, classes]
// and video-level top-1 from the softmax averaged over each video's clips.
func score(logits *tensor.Tensor, labels []int, clips, classes int) EvalResult {
	nv := len(labels)
	var r EvalResult
	r.Clips, r.Videos = nv*clips, nv
	var clipOK, vidOK int
	for v := 0; v < nv; v++ {
		avg := make([]float64, classes)
		for c := 0; c < clips; c++ {
			row := logits.Data[(v*clips+c)*classes : (v*clips+c+1)*classes]
			if argmax32(row) == labels[v] {
				clipOK++
			}
			mx := float64(row[argmax32(row)])
			var s float64
			p := make([]float64, classes)
			for i, z := range row {
				p[i] = math.Exp(float64(z) - mx)
				s += p[i]
			}
			for i := range p {
				avg[i] += p[i] / s
			}
		}
		best := 0
		for i := range avg {
			if avg[i] > avg[best] {
				best = i
			}
		}
		if best == labels[v] {
			vidOK++
		}
	}
	r.ClipTop1 = 100 * float64(clipOK) / float64(max(r.Clips, 1))
	r.VideoTop1 = 100 * float64(vidOK) / float64(max(nv, 1))
	return r
}

func argmax32(row []float32) int {
	b := 0
	for i, v := range row {
		if v > row[b] {
			b = i
		}
	}
	return b
}

func columnStats(x *tensor.Tensor) (mean, std []float32) {
	n, d := x.Dim(0), x.Dim(1)
	mean, std = make([]float32, d), make([]float32, d)
	for j := 0; j < d; j++ {
		var s, s2 float64
		for i := 0; i < n; i++ {
			v := float64(x.Data[i*d+j])
			s += v
			s2 += v * v
		}
		m := s / float64(n)
		mean[j] = float32(m)
		std[j] = float32(math.Sqrt(math.Max(s2/float64(n)-m*m, 0)) + 1e-6)
	}
	return mean, std
}

func standardize(x *tensor.Tensor, mean, std []float32) {
	d := x.Dim(1)
	for i := range x.Data {
		j := i % d
		x.Data[i] = (x.Data[i] - mean[j]) / std[j]
	}
}
