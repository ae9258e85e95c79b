package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/detection"
	"github.com/contrastive-ssl/contrastive/detection/dataset"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/train"
)

func init() {
	register("detect train", "fine-tune a CenterNet detector on a VOC, COCO or Penn-Fudan dataset", detectTrain)
	register("detect eval", "VOC07 AP50 and COCO AP, AP75 of a detector on a dataset", detectEval)
	register("detect predict", "draw a detector's boxes on an image (PNG) and list them (JSON)", detectPredict)
}

// detectorFile is the detector checkpoint inside a detect run directory.
const detectorFile = "detector.safetensors"

func detectTrain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	trainRef := fs.String("train", "", "training data PATH[:split]: a VOC, COCO or Penn-Fudan folder or .tgz (required)")
	testRef := fs.String("test", "", "test data PATH[:split], evaluated at the end (optional)")
	backbone := fs.String("backbone", "", "pretraining run directory (or its checkpoint) whose encoder starts the backbone")
	initFile := fs.String("init", "", "torchvision-format safetensors weights for the backbone (conv1.weight, layer1.0.…; fc.* ignored)")
	arch := fs.String("arch", "resnet18", "backbone for --init or random init: "+strings.Join(models.Archs(), ", "))
	stem := fs.String("stem", models.StemImageNet, "stem for --init or random init: imagenet or cifar")
	width := fs.Float64("width", 1, "width multiplier for --init or random init")
	bn := fs.String("bn", "", "backbone batch norm: frozen (running statistics, fixed γ, β) or train; default frozen for a pretrained backbone, train for random init")
	normalize := fs.String("normalize", "", "input normalisation: imagenet or cifar10 (default cifar10 for a CIFAR-stem backbone, imagenet otherwise)")
	var cfg detection.TrainConfig
	fs.IntVar(&cfg.Size, "size", 256, "input short side in pixels (training crops are size×size), a multiple of 32")
	fs.IntVar(&cfg.Epochs, "epochs", 10, "epochs")
	fs.IntVar(&cfg.MaxSteps, "max-steps", 0, "stop after this many steps (0: all epochs)")
	fs.IntVar(&cfg.BatchSize, "batch-size", 8, "images per step")
	fs.Float64Var(&cfg.LR, "lr", 1e-3, "AdamW peak learning rate (5% warm-up, cosine decay)")
	fs.Float64Var(&cfg.WeightDecay, "weight-decay", 1e-4, "AdamW weight decay (not on biases and norms)")
	fs.Float64Var(&cfg.ScaleMin, "scale-min", 0.6, "smallest zoom of the scale jitter")
	fs.Float64Var(&cfg.ScaleMax, "scale-max", 1.4, "largest zoom of the scale jitter")
	fs.BoolVar(&cfg.NoFlip, "no-flip", false, "no horizontal flips")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed (head initialisation, augmentation, order)")
	fs.IntVar(&cfg.LogEvery, "log-every", 10, "steps between log lines")
	neck := fs.Int("neck-width", 64, "channels of the neck")
	head := fs.Int("head-width", 64, "hidden channels of each head")
	workers := fs.Int("workers", 2, "image decoding goroutines")
	out := fs.String("out", "runs/detect", "run directory: "+detectorFile+", metrics.jsonl, result.json")
	jsonOut := fs.Bool("json", false, "print the test result as one JSON object (needs --test)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, err error) int { fmt.Fprintln(stderr, "detect train:", err); return code }
	if *trainRef == "" || fs.NArg() > 0 {
		return fail(2, errors.New("--train is required and no positional arguments are taken"))
	}
	if *backbone != "" && *initFile != "" {
		return fail(2, errors.New("--backbone and --init are exclusive"))
	}
	if *jsonOut && *testRef == "" {
		return fail(2, errors.New("--json needs --test"))
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x686561))
	var bb *models.ResNet
	initDesc := "random"
	switch {
	case *backbone != "":
		enc, _, err := train.LoadEncoder(*backbone, 3)
		if err != nil {
			return fail(1, err)
		}
		bb, initDesc = enc, "backbone "+*backbone
	default:
		var err error
		if bb, err = models.NewResNet(models.Config{Arch: *arch, Stem: *stem, Width: *width}, rng); err != nil {
			return fail(2, err)
		}
		if *initFile != "" {
			if _, err := checkpoint.LoadModel(*initFile, checkpoint.Entries(nn.State(bb)), checkpoint.LoadOptions{IgnoreUnexpected: true}); err != nil {
				return fail(1, err)
			}
			initDesc = "init " + *initFile
		}
	}
	frozen := initDesc != "random"
	switch *bn {
	case "":
	case "frozen":
		frozen = true
	case "train":
		frozen = false
	default:
		return fail(2, fmt.Errorf("--bn %q: want frozen or train", *bn))
	}
	mean, std, err := normalization(*normalize, bb.Config().Stem)
	if err != nil {
		return fail(2, err)
	}
	cfg.Mean, cfg.Std = mean, std
	cfg.Log = stderr
	if err := cfg.Validate(); err != nil {
		return fail(2, err)
	}
	trainSet, err := dataset.Open(*trainRef)
	if err != nil {
		return fail(1, err)
	}
	var testSet *dataset.Dataset
	if *testRef != "" {
		if testSet, err = dataset.Open(*testRef); err != nil {
			return fail(1, err)
		}
		if !slices.Equal(testSet.Classes, trainSet.Classes) {
			return fail(1, fmt.Errorf("test classes %v differ from training classes %v", testSet.Classes, trainSet.Classes))
		}
	}
	m, err := detection.NewCenterNet(bb, len(trainSet.Classes), *neck, *head, rng)
	if err != nil {
		return fail(2, err)
	}
	m.FrozenBN = frozen
	t0 := time.Now()
	ex, err := detection.Prepare(trainSet, cfg.Size, *workers)
	if err != nil {
		return fail(1, err)
	}
	fmt.Fprintf(stderr, "detect train: %d images, %d boxes, classes %v; backbone: %s (%s, bn %s); prepared in %.1fs\n",
		len(ex), trainSet.NumBoxes(), trainSet.Classes, initDesc, bb.Config().Arch+"/"+bb.Config().Stem, map[bool]string{true: "frozen", false: "train"}[frozen], time.Since(t0).Seconds())
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail(1, err)
	}
	var metrics bytes.Buffer
	cfg.Metrics = &metrics
	_, trainErr := detection.Train(m, ex, cfg)
	if err := safetensors.WriteFileAtomic(filepath.Join(*out, "metrics.jsonl"), metrics.Bytes()); err != nil {
		return fail(1, err)
	}
	if trainErr != nil {
		return fail(1, trainErr)
	}
	c := bb.Config()
	meta := detection.Meta{Arch: c.Arch, Stem: c.Stem, Width: c.Width, Classes: trainSet.Classes, Size: cfg.Size, Mean: mean, Std: std,
		NeckWidth: *neck, HeadWidth: *head, FrozenBN: frozen, Init: initDesc}
	if err := detection.Save(filepath.Join(*out, detectorFile), m, meta); err != nil {
		return fail(1, err)
	}
	fmt.Fprintf(stderr, "detect train: trained in %.1fs; wrote %s\n", time.Since(t0).Seconds(), filepath.Join(*out, detectorFile))
	if testSet == nil {
		return 0
	}
	res, err := evaluate(m, meta, testSet, *workers)
	if err != nil {
		return fail(1, err)
	}
	b, _ := json.Marshal(res)
	if err := safetensors.WriteFileAtomic(filepath.Join(*out, "result.json"), append(b, '\n')); err != nil {
		return fail(1, err)
	}
	printResult(stdout, res, *jsonOut)
	return 0
}

// normalization picks the input mean and std.
func normalization(name, stem string) ([]float32, []float32, error) {
	if name == "" {
		name = "imagenet"
		if stem == models.StemCIFAR {
			name = "cifar10"
		}
	}
	switch name {
	case "imagenet":
		return augment.ImageNetMean, augment.ImageNetStd, nil
	case "cifar10":
		return augment.CIFAR10Mean, augment.CIFAR10Std, nil
	}
	return nil, nil, fmt.Errorf("--normalize %q: want imagenet or cifar10", name)
}

func evaluate(m *detection.CenterNet, meta detection.Meta, ds *dataset.Dataset, workers int) (detection.Result, error) {
	ex, err := detection.Prepare(ds, meta.Size, workers)
	if err != nil {
		return detection.Result{}, err
	}
	return detection.Evaluate(m, ex, meta.Classes, meta.Mean, meta.Std), nil
}

func printResult(w io.Writer, r detection.Result, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintln(w, string(b))
		return
	}
	fmt.Fprintf(w, "%d images: AP50 (VOC07 11-point) %.2f%%  AP@[.5:.95] %.2f%%  AP75 %.2f%%  (COCO AP50 %.2f%%)\n", r.Images, r.AP50, r.AP, r.AP75, r.CAP50)
	for _, c := range r.PerClass {
		fmt.Fprintf(w, "  %-20s %5d boxes  AP50 %6.2f  AP %6.2f  AP75 %6.2f\n", c.Class, c.NumGT, c.AP50, c.AP, c.AP75)
	}
}

// detectorPath accepts a run directory or a checkpoint file.
func detectorPath(p string) string {
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		return filepath.Join(p, detectorFile)
	}
	return p
}

func detectEval(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ckpt := fs.String("checkpoint", "", "detect run directory or "+detectorFile+" (required)")
	data := fs.String("data", "", "dataset PATH[:split] (required)")
	workers := fs.Int("workers", 2, "image decoding goroutines")
	jsonOut := fs.Bool("json", false, "print {\"ap50\", \"ap\", \"ap75\", …} in percent")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *ckpt == "" || *data == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "detect eval: --checkpoint and --data are required")
		return 2
	}
	m, meta, err := detection.Load(detectorPath(*ckpt))
	if err != nil {
		fmt.Fprintln(stderr, "detect eval:", err)
		return 1
	}
	ds, err := dataset.Open(*data)
	if err != nil {
		fmt.Fprintln(stderr, "detect eval:", err)
		return 1
	}
	if !slices.Equal(ds.Classes, meta.Classes) {
		fmt.Fprintf(stderr, "detect eval: dataset classes %v differ from the detector's %v\n", ds.Classes, meta.Classes)
		return 1
	}
	res, err := evaluate(m, meta, ds, *workers)
	if err != nil {
		fmt.Fprintln(stderr, "detect eval:", err)
		return 1
	}
	printResult(stdout, res, *jsonOut)
	return 0
}

// predictJSON is what detect predict writes next to the picture.
type predictJSON struct {
	Image  string       `json:"image"`
	Width  int          `json:"width"`
	Height int          `json:"height"`
	Boxes  []predictBox `json:"boxes"`
}

type predictBox struct {
	Class string     `json:"class"`
	Score float64    `json:"score"`
	Box   [4]float64 `json:"box"` // x0, y0, x1, y1 in pixels (continuous, origin at the top-left corner)
}

func detectPredict(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ckpt := fs.String("checkpoint", "", "detect run directory or "+detectorFile+" (required)")
	imgPath := fs.String("image", "", "PNG, JPEG or GIF image (required)")
	out := fs.String("out", "detections.png", "output picture (PNG)")
	jsonPath := fs.String("json-out", "", "output boxes (JSON; default: --out with .json)")
	minScore := fs.Float64("score", 0.3, "draw and list boxes scoring at least this")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, err error) int { fmt.Fprintln(stderr, "detect predict:", err); return code }
	if *ckpt == "" || *imgPath == "" || fs.NArg() > 0 {
		return fail(2, errors.New("--checkpoint and --image are required"))
	}
	if *jsonPath == "" {
		*jsonPath = strings.TrimSuffix(*out, filepath.Ext(*out)) + ".json"
	}
	m, meta, err := detection.Load(detectorPath(*ckpt))
	if err != nil {
		return fail(1, err)
	}
	f, err := os.Open(*imgPath)
	if err != nil {
		return fail(1, err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return fail(1, fmt.Errorf("%s: %w", *imgPath, err))
	}
	ex := detection.PrepareImage(filepath.Base(*imgPath), img, nil, meta.Size)
	dets := detection.Detect(m, ex, meta.Mean, meta.Std, detection.DecodeOptions{})
	res := predictJSON{Image: *imgPath, Width: ex.OrigW, Height: ex.OrigH, Boxes: []predictBox{}}
	for _, d := range dets {
		if d.Score >= *minScore {
			res.Boxes = append(res.Boxes, predictBox{Class: meta.Classes[d.Box.Class], Score: d.Score, Box: [4]float64{d.Box.X0, d.Box.Y0, d.Box.X1, d.Box.Y1}})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, detection.Draw(img, dets, meta.Classes, *minScore)); err != nil {
		return fail(1, err)
	}
	if err := safetensors.WriteFileAtomic(*out, buf.Bytes()); err != nil {
		return fail(1, err)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	if err := safetensors.WriteFileAtomic(*jsonPath, append(b, '\n')); err != nil {
		return fail(1, err)
	}
	fmt.Fprintf(stdout, "%d boxes with score ≥ %g: %s, %s\n", len(res.Boxes), *minScore, *out, *jsonPath)
	return 0
}
