package train

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/eval"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
)

// FinetuneConfig configures Finetune.
type FinetuneConfig struct {
	Source
	Train, Test string
	Labels      string // "1%", "10%", "100%" or any percentage in (0, 100]
	Out         string // directory for finetune.json and the label subset
	Epochs      int
	MaxSteps    int
	BatchSize   int
	LR          float64
	Seed        uint64 // fixes the label subset and the training order
}

// FinetuneSummary is what finetune.json holds.
type FinetuneSummary struct {
	Source
	Train      string  `json:"train"`
	Test       string  `json:"test"`
	Labels     string  `json:"labels"`
	Images     int     `json:"labelled_images"`
	SubsetFile string  `json:"subset_file"`
	Seed       uint64  `json:"seed"`
	LR         float64 `json:"lr"`
	BatchSize  int     `json:"batch_size"`
	eval.FinetuneResult
}

// ParsePercent reads "10%" (or "10") as 0.1.
func ParsePercent(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || !(v > 0 && v <= 100) {
		return 0, fmt.Errorf("labels %q: want a percentage in (0, 100], e.g. 1%%", s)
	}
	return v / 100, nil
}

// Finetune fine-tunes the encoder and a new linear head on a
// class-balanced, seeded subset of the training labels and evaluates on
// the test set; it writes the subset (DIR/labels-P.csv: row,label) and
// the result (DIR/finetune-P.json) to ec.Out.
func Finetune(fc FinetuneConfig, log io.Writer) (FinetuneSummary, error) {
	sum := FinetuneSummary{Source: fc.Source, Train: fc.Train, Test: fc.Test, Labels: fc.Labels, Seed: fc.Seed}
	frac, err := ParsePercent(fc.Labels)
	if err != nil {
		return sum, err
	}
	tr, err := data.Open(fc.Train, data.OpenOptions{})
	if err != nil {
		return sum, err
	}
	te, err := data.Open(fc.Test, data.OpenOptions{})
	if err != nil {
		return sum, err
	}
	if tr.NumClasses() == 0 || te.NumClasses() == 0 {
		return sum, fmt.Errorf("fine-tuning needs labelled data: %s has %d classes, %s has %d", fc.Train, tr.NumClasses(), fc.Test, te.NumClasses())
	}
	rows, err := eval.BalancedSubset(tr, frac, fc.Seed)
	if err != nil {
		return sum, err
	}
	sum.Images = len(rows)
	tag := strings.ReplaceAll(strconv.FormatFloat(100*frac, 'g', -1, 64), ".", "_") + "pct"
	sum.SubsetFile = filepath.Join(fc.Out, "labels-"+tag+".csv")
	var b strings.Builder
	b.WriteString("row,label\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%d,%d\n", r, tr.Label(r))
	}
	if err := writeFile(sum.SubsetFile, []byte(b.String())); err != nil {
		return sum, err
	}
	_, _, c := tr.Shape()
	enc, err := fc.Source.Load(c)
	if err != nil {
		return sum, err
	}
	size := enc.EvalSize(tr)
	prep := enc.Prep(size)
	var norm *augment.Normalize
	if enc.Mean != nil {
		norm = &augment.Normalize{Mean: enc.Mean, Std: enc.Std}
	}
	pad := max(1, size/8)
	flip := &augment.RandomHorizontalFlip{P: 0.5}
	aug := func(img *augment.Image, rng *rand.Rand) *augment.Image {
		img = flip.Apply(padCrop(augment.EvalView(img, size), pad, rng), rng)
		if norm != nil {
			img = norm.Apply(img, nil)
		}
		return img
	}
	cfg := eval.FinetuneConfig{NumClasses: max(tr.NumClasses(), te.NumClasses()), Epochs: fc.Epochs, MaxSteps: fc.MaxSteps,
		BatchSize: fc.BatchSize, LR: fc.LR, Seed: fc.Seed, Augment: aug, Prep: prep, Log: log}
	res, err := eval.Finetune(enc.ResNet, tr, rows, te, cfg)
	if err != nil {
		return sum, err
	}
	sum.FinetuneResult = res
	sum.LR, sum.BatchSize = fc.LR, fc.BatchSize
	js, _ := json.MarshalIndent(sum, "", "  ")
	if err := writeFile(filepath.Join(fc.Out, "finetune-"+tag+".json"), append(js, '\n')); err != nil {
		return sum, err
	}
	return sum, nil
}

// padCrop is torchvision's RandomCrop(size, padding=pad): zero-pad by pad
// pixels on every side, then cut a random window of the original size.
func padCrop(img *augment.Image, pad int, rng *rand.Rand) *augment.Image {
	h, w, c := img.H, img.W, img.C
	top, left := rng.IntN(2*pad+1)-pad, rng.IntN(2*pad+1)-pad
	out := augment.NewImage(h, w, c)
	for y := 0; y < h; y++ {
		sy := y + top
		if sy < 0 || sy >= h {
			continue
		}
		for x := 0; x < w; x++ {
			sx := x + left
			if sx < 0 || sx >= w {
				continue
			}
			copy(out.Pix[(y*w+x)*c:(y*w+x+1)*c], img.Pix[(sy*w+sx)*c:(sy*w+sx+1)*c])
		}
	}
	return out
}

func writeFile(path string, b []byte) error {
	if err := mkdirFor(path); err != nil {
		return err
	}
	if err := safetensors.WriteFileAtomic(path, b); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func mkdirFor(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
