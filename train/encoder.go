package train

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/eval"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
)

// LoadEncoder rebuilds the encoder of a run from path (a run directory or
// a checkpoint file) and loads its weights. It returns the run's config.
func LoadEncoder(path string, inChannels int) (*models.ResNet, Config, error) {
	file := path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file = filepath.Join(path, CheckpointFile)
	}
	cfg, err := checkpointConfig(file)
	if err != nil {
		return nil, cfg, err
	}
	// The weights are overwritten by the checkpoint; the generator only
	// satisfies the constructor.
	rng := rand.New(rand.NewPCG(cfg.Seed, 0))
	enc, err := models.NewResNet(models.Config{Arch: cfg.Arch, Stem: cfg.Stem, InChannels: inChannels, Width: cfg.Width}, rng)
	if err != nil {
		return nil, cfg, fmt.Errorf("%s: %w", file, err)
	}
	if _, err := checkpoint.LoadModel(file, checkpoint.Entries(nn.State(enc)), checkpoint.LoadOptions{IgnoreUnexpected: true}); err != nil {
		return nil, cfg, err
	}
	return enc, cfg, nil
}

// checkpointConfig reads the run config stored in a checkpoint's metadata.
func checkpointConfig(file string) (Config, error) {
	f, err := safetensors.Read(file)
	if err != nil {
		return Config{}, fmt.Errorf("checkpoint: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &cfg); err != nil {
		return cfg, fmt.Errorf("%s: no readable run config in the metadata: %w", file, err)
	}
	return cfg, nil
}

// EvalKind selects the downstream evaluation.
type EvalKind string

const (
	EvalKNN    EvalKind = "knn"
	EvalLinear EvalKind = "linear"
)

// EvalConfig configures Evaluate.
type EvalConfig struct {
	Checkpoint  string
	Init        string // torchvision-format weights instead of a run
	Layer       string // layer1..layer4 or pool ("": pool)
	Train, Test string
	Kind        EvalKind
	K           int
	Temperature float64
	Epochs      int // linear probe epochs
	Batch       int
	Seed        uint64
	// ImageSize overrides the evaluation size; 0 uses the checkpoint's
	// training size (or, for a checkpoint that does not record it, the
	// training data's side, else 224).
	ImageSize int
	// Open are the options of opening Train and Test (memory budget,
	// pixel limit).
	Open data.OpenOptions
}

// Evaluate computes frozen features of the checkpoint's encoder on the
// train and test sets (normalised like the run's augmentation preset) and
// classifies the test set with weighted kNN or a linear probe.
func Evaluate(ec EvalConfig) (eval.Result, error) {
	res, err := EvaluateLayers(ec, []string{ec.Layer})
	if err != nil {
		return eval.Result{}, err
	}
	return res[0], nil
}

// EvaluateLayers is Evaluate for several layers (stage probes), their
// features computed in one pass; results in the order of layers.
func EvaluateLayers(ec EvalConfig, layers []string) ([]eval.Result, error) {
	tr, err := data.Open(ec.Train, ec.Open)
	if err != nil {
		return nil, err
	}
	te, err := data.Open(ec.Test, ec.Open)
	if err != nil {
		return nil, err
	}
	if tr.NumClasses() == 0 || te.NumClasses() == 0 {
		return nil, fmt.Errorf("evaluation needs labelled data: %s has %d classes, %s has %d", ec.Train, tr.NumClasses(), ec.Test, te.NumClasses())
	}
	_, _, c := tr.Shape()
	enc, err := Source{Checkpoint: ec.Checkpoint, Init: ec.Init}.Load(c)
	if err != nil {
		return nil, err
	}
	size := ec.ImageSize
	if size == 0 {
		size = enc.EvalSize(tr)
	}
	prep := enc.Prep(size)
	trf, trl, err := eval.FeaturesAtLayers(enc.ResNet, tr, ec.Batch, prep, layers)
	if err != nil {
		return nil, err
	}
	tef, tel, err := eval.FeaturesAtLayers(enc.ResNet, te, ec.Batch, prep, layers)
	if err != nil {
		return nil, err
	}
	classes := max(tr.NumClasses(), te.NumClasses())
	out := make([]eval.Result, len(layers))
	for i := range layers {
		if ec.Kind == EvalLinear {
			out[i], err = eval.LinearProbe(trf[i], trl, tef[i], tel, eval.LinearConfig{NumClasses: classes, Epochs: ec.Epochs, Seed: ec.Seed})
		} else {
			out[i], err = eval.KNN(trf[i], trl, tef[i], tel, eval.KNNConfig{K: ec.K, Temperature: float32(ec.Temperature), NumClasses: classes})
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
