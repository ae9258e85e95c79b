package eval

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/optim"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// BalancedSubset picks a class-balanced fraction of ds's labelled images,
// fixed by seed: round(fraction·N/C) images of every class (at least one;
// all of a class that has fewer), each class's picked uniformly at random
// without replacement. It returns the rows, sorted.
func BalancedSubset(ds data.Dataset, fraction float64, seed uint64) ([]int, error) {
	c := ds.NumClasses()
	if c == 0 {
		return nil, fmt.Errorf("label subset of %s: the data has no labels", ds.Name())
	}
	if !(fraction > 0 && fraction <= 1) {
		return nil, fmt.Errorf("label subset: fraction %v, want (0, 1]", fraction)
	}
	byClass := make([][]int, c)
	for i := 0; i < ds.Len(); i++ {
		if l := ds.Label(i); l >= 0 && l < c {
			byClass[l] = append(byClass[l], i)
		}
	}
	if fraction == 1 {
		var all []int
		for _, rows := range byClass {
			all = append(all, rows...)
		}
		sort.Ints(all)
		return all, nil
	}
	per := max(1, int(fraction*float64(ds.Len())/float64(c)+0.5))
	rng := rand.New(rand.NewPCG(seed, 0x1abe1))
	var out []int
	for _, rows := range byClass {
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		out = append(out, rows[:min(per, len(rows))]...)
	}
	sort.Ints(out)
	return out, nil
}

// FinetuneConfig configures Finetune. Zero fields take the defaults
// noted.
type FinetuneConfig struct {
	NumClasses  int
	Epochs      int     // 30
	MaxSteps    int     // stop after this many steps (0: no limit)
	BatchSize   int     // 128
	LR          float64 // 0.05 peak (batch 128), linear warm-up over the first 10% of the steps, then cosine to 0
	HeadLR      float64 // learning rate of the new linear head (0: LR)
	Momentum    float64 // 0.9 (Nesterov)
	WeightDecay float64 // 5e-4, not on biases and batch norms
	Seed        uint64
	// Augment is the training transform of one image (random crop and
	// flip, normalisation); Prep the test transform. Both are required.
	Augment func(img *augment.Image, rng *rand.Rand) *augment.Image
	Prep    func(img *augment.Image) *augment.Image
	Log     io.Writer // one line per epoch (nil: none)
}

func (c *FinetuneConfig) defaults() {
	if c.Epochs == 0 {
		c.Epochs = 30
	}
	if c.BatchSize == 0 {
		c.BatchSize = 128
	}
	if c.LR == 0 {
		c.LR = 0.05
	}
	if c.HeadLR == 0 {
		c.HeadLR = c.LR
	}
	if c.Momentum == 0 {
		c.Momentum = 0.9
	}
	if c.WeightDecay == 0 {
		c.WeightDecay = 5e-4
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// FinetuneResult is the test accuracy after fine-tuning and what it cost.
type FinetuneResult struct {
	Result
	Steps   int     `json:"steps"`
	Epochs  int     `json:"epochs"`
	Seconds float64 `json:"seconds"`
	Loss    float64 `json:"final_loss"`
}

// Finetune trains the whole encoder plus a new linear classifier on the
// rows of train (SimCLR's semi-supervised protocol, Chen et al.
// arXiv:2002.05709 §B.5: every weight trainable, cross-entropy, SGD with
// Nesterov momentum, its own cosine schedule), then returns top-1/top-5
// on test with batch norm in evaluation mode. The encoder is modified.
func Finetune(enc *models.ResNet, train data.Dataset, rows []int, test data.Dataset, cfg FinetuneConfig) (FinetuneResult, error) {
	cfg.defaults()
	var res FinetuneResult
	if cfg.Augment == nil || cfg.Prep == nil || cfg.NumClasses < 1 || len(rows) == 0 {
		return res, fmt.Errorf("finetune: need transforms, classes (%d) and training rows (%d)", cfg.NumClasses, len(rows))
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xf17e))
	head := nn.NewLinear(enc.FeatureDim(), cfg.NumClasses, true, rng)
	encParams := optim.Params(nn.Params(enc))
	headParams := optim.Params(nn.Params(head))
	sgd := optim.SGDConfig{LR: cfg.LR, Momentum: cfg.Momentum, Nesterov: true, WeightDecay: cfg.WeightDecay, ExcludeFromDecay: optim.ExcludeBiasAndNorm}
	encOpt, err := optim.NewSGD(encParams, sgd)
	if err != nil {
		return res, fmt.Errorf("finetune: %w", err)
	}
	sgd.LR = cfg.HeadLR
	headOpt, err := optim.NewSGD(headParams, sgd)
	if err != nil {
		return res, fmt.Errorf("finetune: %w", err)
	}
	bs := min(cfg.BatchSize, len(rows))
	perEpoch := max(1, len(rows)/bs) // drop the last partial batch (batch norm)
	total := cfg.Epochs * perEpoch
	if cfg.MaxSteps > 0 {
		total = min(total, cfg.MaxSteps)
	}
	sched := optim.WarmupCosine{Base: 1, WarmupSteps: total / 10, TotalSteps: total}
	nn.SetTraining(enc, true)
	start := time.Now()
	order := append([]int(nil), rows...)
	imgs := make([]*augment.Image, bs)
	labels := make([]int, bs)
	step := 0
	for ep := 0; step < total; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var lossSum float64
		var n int
		for b := 0; b < perEpoch && step < total; b++ {
			for i := 0; i < bs; i++ {
				r := order[b*bs+i]
				img, err := train.Image(r)
				if err != nil {
					return res, fmt.Errorf("finetune: %w", err)
				}
				imgs[i], labels[i] = cfg.Augment(img, rng), train.Label(r)
			}
			x := augment.Stack(imgs)
			f := sched.At(step)
			encOpt.SetLR(cfg.LR * f)
			headOpt.SetLR(cfg.HeadLR * f)
			loss := autograd.CrossEntropy(head.Forward(enc.Forward(autograd.Const(x))), labels)
			autograd.Backward(loss)
			lossSum += float64(loss.Item())
			n++
			autograd.Free(loss)
			tensor.Put(x)
			encOpt.Step()
			headOpt.Step()
			encOpt.ZeroGrad()
			headOpt.ZeroGrad()
			step++
		}
		res.Loss = lossSum / float64(max(n, 1))
		res.Epochs = ep + 1
		fmt.Fprintf(cfg.Log, "finetune epoch %d: %d steps, loss %.4f, %.0f s\n", ep+1, step, res.Loss, time.Since(start).Seconds())
	}
	res.Steps = step
	nn.SetTraining(enc, false)
	defer nn.SetTraining(enc, true)
	m := &classifier{enc, head}
	feats, tel, err := Embed(test, 256, cfg.Prep, func(x *tensor.Tensor, out []float32) {
		autograd.Inference(func(func(*autograd.Value)) {
			copy(out, m.Forward(autograd.Const(x)).Data.Data)
		})
	}, cfg.NumClasses)
	if err != nil {
		return res, err
	}
	// The "features" are the logits: rank them through an identity layer.
	eye := make([]float32, cfg.NumClasses*cfg.NumClasses)
	for i := 0; i < cfg.NumClasses; i++ {
		eye[i*cfg.NumClasses+i] = 1
	}
	res.Result = classify(feats, tel, eye, make([]float32, cfg.NumClasses), cfg.NumClasses)
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

type classifier struct {
	enc  *models.ResNet
	head *nn.Linear
}

func (c *classifier) Forward(x *autograd.Value) *autograd.Value {
	return c.head.Forward(c.enc.Forward(x))
}
