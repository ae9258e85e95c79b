package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/dist"
	"github.com/contrastive-ssl/contrastive/eval"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/methods"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/optim"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// File names inside a run directory.
const (
	CheckpointFile = "checkpoint.safetensors"
	ConfigFile     = "config.yaml"
	MetricsFile    = "metrics.jsonl"
	PlotFile       = "loss.png"
)

// ErrInterrupted is returned (wrapped) when the context was cancelled: the
// checkpoint of the last completed step has been written.
var ErrInterrupted = errors.New("training interrupted")

// Summary reports a finished run.
type Summary struct {
	Steps int `json:"steps"`
	// Epochs is the number of passes over the training data, fractional
	// (300 steps of 128 over 60,000 images: 0.64).
	Epochs float64 `json:"epochs"`
	// WarmupSteps is the length of the learning-rate warm-up that ran.
	WarmupSteps int          `json:"warmup_steps"`
	FinalLoss   float64      `json:"final_loss"`
	Seconds     float64      `json:"seconds"`
	ImagesSec   float64      `json:"images_per_sec"`
	KNN         *eval.Result `json:"knn,omitempty"`
	RandomKNN   *eval.Result `json:"random_init_knn,omitempty"`
	// BankKNN is the kNN of a memory-bank method against its bank.
	BankKNN *eval.Result `json:"bank_knn,omitempty"`
}

// Options are the parts of a run that are not configuration.
type Options struct {
	// Resume continues from the run directory's checkpoint.
	Resume bool
	// Log receives progress lines; Progress, when true, redraws one
	// status line in place (a terminal) instead of printing log lines.
	Log      io.Writer
	Progress bool
	// Comm is the process group of a data-parallel run (see dist.go); nil
	// trains in this process alone.
	Comm *dist.Comm
}

// Run pretrains cfg.Method on cfg.Data and writes the run directory
// cfg.Out: checkpoint.safetensors, config.yaml, metrics.jsonl, loss.png.
// Cancelling ctx (Ctrl-C) writes a checkpoint and returns ErrInterrupted.
// A NaN or infinite loss stops the run with an error and leaves the last
// good checkpoint in place.
func Run(ctx context.Context, cfg Config, opt Options) (*Summary, error) {
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	cfg.Resolve()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	r, err := newRun(cfg, opt)
	if err != nil {
		return nil, err
	}
	return r.loop(ctx)
}

type run struct {
	cfg      Config
	opt      Options
	full     data.Dataset // the training data as opened
	ds       data.Dataset // what is trained on: full, or its TrainSubset
	test     data.Dataset
	views    *augment.MultiView
	method   methods.Method
	optim    optim.Optimizer
	sched    optim.WarmupCosine
	state    []checkpoint.Entry
	step     int
	total    int
	perEpoch int
	start    data.Position
	metrics  *MetricsLog
	saved    int            // step of the checkpoint on disk, -1 while there is none
	comm     *dist.Comm     // nil: one process
	grads    *dist.GradSync // averages gradients over comm
	blocked  time.Duration  // comm.Blocked() at the last logged step
}

func newRun(cfg Config, opt Options) (*run, error) {
	r := &run{cfg: cfg, opt: opt, saved: -1, comm: opt.Comm}
	if r.rank() != 0 {
		r.opt.Log, r.opt.Progress = io.Discard, false
		opt = r.opt
	}
	openOpt, err := cfg.OpenOptions(opt.Log)
	if err != nil {
		return nil, err
	}
	if r.full, err = data.Open(cfg.Data, openOpt); err != nil {
		return nil, err
	}
	r.ds = r.full
	if cfg.TrainSubset > 0 {
		if r.ds, err = data.Subset(r.full, cfg.TrainSubset); err != nil {
			return nil, err
		}
	}
	if cfg.TestData != "" {
		if r.test, err = data.Open(cfg.TestData, openOpt); err != nil {
			return nil, err
		}
		if r.test.NumClasses() == 0 {
			return nil, fmt.Errorf("test data %s has no labels: kNN evaluation needs a labelled dataset", cfg.TestData)
		}
	}
	h, w, c := r.ds.Shape()
	r.cfg.ImageSize = ImageSizeFor(cfg.ImageSize, h, w)
	cfg = r.cfg
	if r.views, err = augment.Preset(cfg.AugmentPreset(), cfg.ImageSize, c); err != nil {
		return nil, fmt.Errorf("augment: %w", err)
	}
	r.views = viewsInUse(cfg, r.views)
	r.perEpoch = r.ds.Len() / cfg.BatchSize
	if r.perEpoch == 0 {
		return nil, fmt.Errorf("data %s has %d images, fewer than one batch of %d", cfg.Data, r.ds.Len(), cfg.BatchSize)
	}
	r.total = totalSteps(cfg, r.perEpoch)
	if r.method, err = newMethod(cfg, c, r.ds); err != nil {
		return nil, err
	}
	params := optim.Params(nn.Params(r.method.Model()))
	if r.optim, err = newOptimizer(cfg, params); err != nil {
		return nil, err
	}
	r.sched = optim.WarmupCosine{Base: cfg.LR, WarmupSteps: WarmupSteps(cfg.WarmupEpochs, r.perEpoch, r.total), TotalSteps: max(r.total, 1)}
	r.state = checkpoint.Entries(nn.State(r.method.Model()))
	if err := r.distribute(); err != nil {
		return nil, err
	}
	if r.rank() != 0 {
		// Only rank 0 writes the run directory; the others read it on
		// --resume.
		if opt.Resume {
			if err := r.resume(); err != nil {
				return nil, err
			}
		} else if err := r.initBank(); err != nil {
			return nil, err
		}
		return r, r.agreeOnStart()
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("out: %w", err)
	}
	if opt.Resume {
		if err := r.resume(); err != nil {
			return nil, err
		}
	} else {
		if cfg.Init != "" {
			if err := InitEncoder(cfg.Init, r.method.Encoder()); err != nil {
				return nil, err
			}
			syncTargets(r.method)
		}
		if err := r.initBank(); err != nil {
			return nil, err
		}
	}
	if err := safetensors.WriteFileAtomic(filepath.Join(cfg.Out, ConfigFile), cfg.Marshal()); err != nil {
		return nil, err
	}
	if r.metrics, err = OpenMetrics(filepath.Join(cfg.Out, MetricsFile), r.step); err != nil {
		return nil, err
	}
	return r, r.agreeOnStart()
}

func newMethod(cfg Config, channels int, ds data.Dataset) (methods.Method, error) {
	mc := methods.Config{
		Encoder:       models.Config{Arch: cfg.Arch, Stem: cfg.Stem, InChannels: channels, Width: cfg.Width},
		ProjHidden:    cfg.ProjHidden,
		ProjDim:       cfg.ProjDim,
		ProjBN:        cfg.ProjBN,
		Temperature:   float32(cfg.Temperature),
		DatasetSize:   ds.Len(),
		NumClasses:    ds.NumClasses(),
		StepsPerEpoch: ds.Len() / cfg.BatchSize,
		TotalSteps:    totalSteps(cfg, ds.Len()/cfg.BatchSize),
		Options:       cfg.Methods,
	}
	return methods.New(cfg.Method, mc, cfg.Seed)
}

// totalSteps is the number of optimizer steps a run of cfg makes at
// perEpoch steps per epoch: its epochs, capped by max_steps.
func totalSteps(cfg Config, perEpoch int) int {
	t := cfg.Epochs * perEpoch
	if cfg.MaxSteps >= 0 && cfg.MaxSteps < t {
		t = cfg.MaxSteps
	}
	return t
}

// AutoWarmupFraction is the share of a run the automatic warm-up takes at
// most.
const AutoWarmupFraction = 0.1

// WarmupSteps is the learning-rate warm-up of a run of total steps at
// perEpoch steps per epoch: epochs·perEpoch for epochs ≥ 0, and for
// epochs < 0 (the default) sized from the steps that will run:
// min(10 epochs, 10% of the run), so a 1000-step run warms up for 100
// steps, not for 10 epochs that may be most of it or all of it.
func WarmupSteps(epochs float64, perEpoch, total int) int {
	if epochs >= 0 {
		return int(epochs * float64(perEpoch))
	}
	return min(10*perEpoch, int(AutoWarmupFraction*float64(total)))
}

func newOptimizer(cfg Config, params []optim.Param) (optim.Optimizer, error) {
	switch cfg.Optimizer {
	case "lars":
		return optim.NewLARS(params, optim.LARSConfig{LR: cfg.LR, Eta: cfg.LARSEta, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay, Exclude: optim.ExcludeBiasAndNorm})
	case "adamw":
		return optim.NewAdamW(params, optim.AdamWConfig{LR: cfg.LR, WeightDecay: cfg.WeightDecay})
	default:
		return optim.NewSGD(params, optim.SGDConfig{LR: cfg.LR, Momentum: cfg.Momentum, WeightDecay: cfg.WeightDecay, ExcludeFromDecay: optim.ExcludeBiasAndNorm})
	}
}

// resume restores weights, optimizer, method state, step and loader
// position from the run directory's checkpoint.
func (r *run) resume() error {
	path := filepath.Join(r.cfg.Out, CheckpointFile)
	ck, err := checkpoint.Load(path, r.state)
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if err := r.optim.LoadState(ck.Optimizer); err != nil {
		return fmt.Errorf("resume %s: optimizer: %w", path, err)
	}
	if err := r.method.LoadState(ck.Extra); err != nil {
		return fmt.Errorf("resume %s: %w", path, err)
	}
	if err := r.checkProcesses(ck.Metadata); err != nil {
		return fmt.Errorf("resume %s: %w", path, err)
	}
	pos := ck.Loader["position"]
	if len(pos) != 2 {
		return fmt.Errorf("resume %s: no data-loader position", path)
	}
	r.step = int(ck.Step)
	r.saved = r.step
	r.start = data.Position{Epoch: int(pos[0]), Index: int(pos[1])}
	fmt.Fprintf(r.opt.Log, "resumed %s at step %d (epoch %d, sample %d)\n", path, r.step, r.start.Epoch, r.start.Index)
	return nil
}

// save writes the checkpoint of the state after r.step steps.
func (r *run) save(pos data.Position) error {
	if r.rank() != 0 {
		return nil
	}
	cfgJSON, _ := json.Marshal(r.cfg)
	err := checkpoint.Save(filepath.Join(r.cfg.Out, CheckpointFile), &checkpoint.Checkpoint{
		Model:     r.state,
		Optimizer: r.optim.State(),
		Step:      int64(r.step),
		Loader:    map[string][]int64{"position": {int64(pos.Epoch), int64(pos.Index)}},
		Extra:     r.method.State(),
		Config:    string(cfgJSON),
		Metadata:  map[string]string{"method": r.cfg.Method, "arch": r.cfg.Arch, "stem": r.cfg.Stem, "width": fmt.Sprint(r.cfg.Width), "image_size": fmt.Sprint(r.cfg.ImageSize), "processes": fmt.Sprint(r.procs())},
	})
	if err != nil {
		return r.writeFailed(fmt.Errorf("checkpoint of step %d not written: %w", r.step, err))
	}
	r.saved = r.step
	return nil
}

func (r *run) loop(ctx context.Context) (*Summary, error) {
	defer r.metrics.Close()
	sum := &Summary{}
	began := time.Now()
	if r.step >= r.total {
		// Nothing to train (max_steps 0 writes the random-init baseline).
		if err := r.save(r.start); err != nil {
			return nil, err
		}
		return r.finish(sum, began, 0)
	}
	loader, err := data.NewLoader(r.ds, data.LoaderConfig{
		BatchSize: r.cfg.BatchSize, Seed: r.cfg.Seed, Shuffle: true, DropLast: true,
		Workers: r.cfg.Workers, Start: r.start, RawViews: r.views.ViewsU8,
		Shard: r.rank(), Shards: r.procs(),
	}, r.views.Views)
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	pos := r.start
	images := 0
	lastLog, lastImages := time.Now(), 0
	var loss float64
	for r.step < r.total {
		if r.interrupted(ctx) {
			r.metrics.Flush() // before the checkpoint: see below
			if err := r.save(pos); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w at step %d: checkpoint written to %s", ErrInterrupted, r.step, filepath.Join(r.cfg.Out, CheckpointFile))
		}
		b, err := loader.Next()
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", r.step, err)
		}
		lv := r.method.Loss(methods.Batch{Views: b.Views, Indices: b.Indices, Labels: b.Labels, Step: r.step, Epoch: b.Epoch})
		loss = r.meanLoss(float64(lv.Item()))
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return nil, fmt.Errorf("step %d: loss is %v: training stopped (lower the learning rate?); %s", r.step, loss, r.lastCheckpoint())
		}
		r.backward(lv)
		lr := r.sched.At(r.step)
		r.optim.SetLR(lr)
		r.optim.Step()
		r.optim.ZeroGrad()
		autograd.Free(lv)
		for _, v := range b.Views {
			tensor.Put(v)
		}
		r.method.AfterStep(r.step)
		r.step++
		pos = loader.Position()
		images += len(b.Indices) * r.procs()

		if r.cfg.LogEvery > 0 && (r.step%r.cfg.LogEvery == 0 || r.step == r.total) {
			now := time.Now()
			ips := float64(images-lastImages) / now.Sub(lastLog).Seconds()
			lastLog, lastImages = now, images
			rec := Record{Step: r.step, Epoch: b.Epoch, Loss: loss, LR: lr, ImagesSec: ips, Elapsed: time.Since(began).Seconds(), Process: readProcessStats()}
			if rep, ok := r.method.(methods.Reporter); ok {
				rec.Method = rep.Report()
			}
			rec.CommSec = r.commPerStep()
			if err := r.metrics.Write(rec); err != nil {
				return nil, r.writeFailed(err)
			}
			r.progress(rec, began)
		}
		if r.cfg.CheckpointEvery > 0 && r.step%r.cfg.CheckpointEvery == 0 {
			// The log is flushed before the checkpoint is written, so a
			// checkpoint never gets ahead of the log: a run killed between
			// the two resumes from the previous checkpoint, and OpenMetrics
			// drops the lines after it. (In the other order a kill there
			// lost the lines since the last flush for good.)
			r.metrics.Flush()
			if err := r.save(pos); err != nil {
				return nil, err
			}
		}
		epochDone := r.step%r.perEpoch == 0
		if r.rank() == 0 && r.test != nil && r.cfg.KNNEvery > 0 && epochDone && (r.step/r.perEpoch)%r.cfg.KNNEvery == 0 && r.step < r.total {
			res, bank, err := r.monitor(r.step/r.perEpoch, began)
			if err != nil {
				return nil, err
			}
			msg := fmt.Sprintf("\nepoch %d: kNN top-1 %.2f%% top-5 %.2f%%", r.step/r.perEpoch, 100*res.Top1, 100*res.Top5)
			if bank != nil {
				msg += fmt.Sprintf("   bank kNN top-1 %.2f%% top-5 %.2f%%", 100*bank.Top1, 100*bank.Top5)
			}
			fmt.Fprintln(r.opt.Log, msg)
		}
	}
	if r.opt.Progress {
		fmt.Fprintln(r.opt.Log)
	}
	if err := r.save(pos); err != nil {
		return nil, err
	}
	sum.FinalLoss = loss
	sum.ImagesSec = float64(images) / time.Since(began).Seconds()
	return r.finish(sum, began, images)
}

// finish evaluates (kNN, and the random-init baseline when asked), writes
// the plot and returns the summary.
func (r *run) finish(sum *Summary, began time.Time, images int) (*Summary, error) {
	sum.Steps = r.step
	sum.Epochs = float64(r.step) * float64(r.cfg.BatchSize) / float64(r.ds.Len())
	sum.WarmupSteps = r.sched.WarmupSteps
	if r.rank() != 0 {
		sum.Seconds = time.Since(began).Seconds()
		return sum, nil
	}
	if r.test != nil {
		res, bank, err := r.monitor(r.step/r.perEpoch, began)
		if err != nil {
			return nil, err
		}
		sum.KNN, sum.BankKNN = &res, bank
		if r.cfg.CompareRandom {
			fresh, err := newMethod(r.cfg, r.method.Encoder().Config().InChannels, r.ds)
			if err != nil {
				return nil, err
			}
			rres, err := r.knn(fresh.Encoder())
			if err != nil {
				return nil, err
			}
			sum.RandomKNN = &rres
		}
	}
	sum.Seconds = time.Since(began).Seconds()
	if err := r.metrics.Flush(); err != nil {
		return nil, err
	}
	recs, err := ReadMetrics(filepath.Join(r.cfg.Out, MetricsFile))
	if err != nil {
		return nil, err
	}
	if err := PlotCurves(filepath.Join(r.cfg.Out, PlotFile), recs); err != nil {
		return nil, err
	}
	return sum, nil
}

// monitor runs the kNN evaluation of the trained encoder and, for a
// memory-bank method, the kNN against its bank (nil otherwise), and logs
// both to the metrics file.
func (r *run) monitor(epoch int, began time.Time) (eval.Result, *eval.Result, error) {
	res, err := r.knn(r.method.Encoder())
	if err != nil {
		return res, nil, err
	}
	rec := Record{Step: r.step, Epoch: epoch, KNNTop1: &res.Top1, KNNTop5: &res.Top5}
	var bank *eval.Result
	if be, ok := r.method.(methods.BankEvaluator); ok {
		b, err := r.bankKNN(be)
		if err != nil {
			return res, nil, err
		}
		bank = &b
		rec.BankKNNTop1, rec.BankKNNTop5 = &b.Top1, &b.Top5
	}
	rec.Elapsed = time.Since(began).Seconds()
	return res, bank, r.metrics.Write(rec)
}

// embed maps every image of ds through f (rows of the embedding width)
// with the evaluation preprocessing.
func (r *run) embed(ds data.Dataset, f func(*tensor.Tensor) *tensor.Tensor) (*tensor.Tensor, []int, error) {
	return eval.Embed(ds, 256, r.prep(), func(x *tensor.Tensor, out []float32) { copy(out, f(x).Data) }, r.cfg.ProjDim)
}

// bankKNN is InstDisc's evaluation (§3.5): the test images are embedded
// by the encoder and projection head and vote with their K nearest bank
// rows, labelled with the training labels; no pass over the training
// images.
func (r *run) bankKNN(be methods.BankEvaluator) (eval.Result, error) {
	if r.ds.NumClasses() == 0 {
		return eval.Result{}, fmt.Errorf("bank kNN needs labels: training data %s is unlabelled", r.cfg.Data)
	}
	bankLabels := make([]int, r.ds.Len())
	for i := range bankLabels {
		bankLabels[i] = r.ds.Label(i)
	}
	tef, tel, err := r.embed(r.test, be.Embed)
	if err != nil {
		return eval.Result{}, err
	}
	top1, top5, err := be.BankKNN(tef, tel, bankLabels, methods.KNNConfig{K: r.cfg.KNNK,
		Temperature: float32(r.cfg.KNNTemperature), NumClasses: max(r.ds.NumClasses(), r.test.NumClasses())})
	if err != nil {
		return eval.Result{}, fmt.Errorf("bank kNN: %w", err)
	}
	return eval.Result{Top1: top1, Top5: top5}, nil
}

// viewsInUse drops the views a run would build and never use: SwAV with
// --swav-local-crops N < the preset's local crops uses only the global
// crops and the first N local ones. The views kept draw the same random
// parameters as before (each pipeline draws after the ones before it).
func viewsInUse(cfg Config, mv *augment.MultiView) *augment.MultiView {
	var n int
	switch cfg.Method {
	case "swav":
		n = cfg.Methods.SwAV.CropsUsed(len(mv.Pipelines))
	case "dino":
		n = cfg.Methods.DINO.CropsUsed(len(mv.Pipelines))
	default:
		return mv
	}
	if n < 1 || n >= len(mv.Pipelines) {
		return mv
	}
	out := *mv
	out.Pipelines = mv.Pipelines[:n:n]
	if len(out.JigsawGrid) > n {
		out.JigsawGrid = out.JigsawGrid[:n:n]
	}
	return &out
}

// initBank fills a memory bank with the training images' embeddings when
// the method asks for it (methods.BankInitializer), before a fresh run's
// first step; a resumed run has its bank from the checkpoint.
func (r *run) initBank() error {
	bi, ok := r.method.(methods.BankInitializer)
	if !ok || bi.BankInit() != "features" {
		return nil
	}
	t0 := time.Now()
	rows, _, err := r.embed(r.ds, bi.InitEmbed)
	if err != nil {
		return fmt.Errorf("bank init: %w", err)
	}
	if err := bi.InitBank(rows); err != nil {
		return err
	}
	fmt.Fprintf(r.opt.Log, "memory bank: %d rows from the initial network's embeddings in %.1f s\n", rows.Dim(0), time.Since(t0).Seconds())
	return nil
}

// prep is the evaluation preprocessing: torchvision's eval transform at
// the training size, then the training views' normalisation.
func (r *run) prep() func(*augment.Image) *augment.Image {
	return EvalPrep(r.cfg.ImageSize, r.views.Mean, r.views.Std)
}

// knn evaluates enc with the weighted kNN classifier: the memory is the
// KNNTrainSize training images spread over the whole training set (all
// when 0, the subset trained on or not), the queries the test set.
func (r *run) knn(enc *models.ResNet) (eval.Result, error) {
	prep := r.prep()
	train := r.full
	if n := r.cfg.KNNTrainSize; n > 0 && n < train.Len() {
		train, _ = data.Subset(train, n)
	}
	if train.NumClasses() == 0 {
		return eval.Result{}, fmt.Errorf("kNN needs labels: training data %s is unlabelled", r.cfg.Data)
	}
	trf, trl, err := eval.Features(enc, train, 256, prep)
	if err != nil {
		return eval.Result{}, err
	}
	tef, tel, err := eval.Features(enc, r.test, 256, prep)
	if err != nil {
		return eval.Result{}, err
	}
	return eval.KNN(trf, trl, tef, tel, eval.KNNConfig{K: r.cfg.KNNK, Temperature: float32(r.cfg.KNNTemperature), NumClasses: max(train.NumClasses(), r.test.NumClasses())})
}

func (r *run) progress(rec Record, began time.Time) {
	eta := time.Duration(0)
	if done := r.step; done > 0 {
		el := time.Since(began)
		eta = time.Duration(float64(el) / float64(done) * float64(r.total-done))
	}
	line := fmt.Sprintf("epoch %d  step %d/%d  loss %.4f  lr %.4g  %.1f img/s  ETA %s",
		rec.Epoch+1, rec.Step, r.total, rec.Loss, rec.LR, rec.ImagesSec, eta.Round(time.Second))
	for _, k := range slices.Sorted(maps.Keys(rec.Method)) {
		line += fmt.Sprintf("  %s %.3g", k, rec.Method[k])
	}
	if r.opt.Progress {
		fmt.Fprintf(r.opt.Log, "\r%-90s", line)
	} else {
		fmt.Fprintln(r.opt.Log, line)
	}
}
