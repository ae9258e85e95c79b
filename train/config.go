package train

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/contrastive-ssl/contrastive/methods"

	"gopkg.in/yaml.v3"
)

// Config is everything a pretraining run needs. config.yaml in the run
// directory holds the resolved Config; `pretrain --config FILE` reads the
// same keys and flags override them.
type Config struct {
	Method   string `yaml:"method"`              // simclr, ...
	Data     string `yaml:"data"`                // training dataset reference (PATH[:split])
	TestData string `yaml:"test_data,omitempty"` // labelled set for kNN evaluation ("" none)
	SkipBad  bool   `yaml:"skip_bad,omitempty"`
	// MaxMemory bounds the decoded pixels held in memory per dataset
	// ("512MiB", "4GiB"; "": data.DefaultMaxMemory); a larger image
	// folder is decoded from disk by the loader's workers on every access.
	MaxMemory string `yaml:"max_memory,omitempty"`
	// MaxPixels refuses an image whose header claims more pixels (0:
	// data.DefaultMaxPixels, PIL's 89,478,485).
	MaxPixels int64 `yaml:"max_pixels,omitempty"`
	// TrainSubset trains on this many images spread evenly over Data (0:
	// all), e.g. so that a short run sees each image several times, as a
	// memory bank needs. kNN memory still comes from all of Data.
	TrainSubset int `yaml:"train_subset,omitempty"`

	Arch string `yaml:"arch"` // resnet18 | resnet34 | resnet50
	// Init starts the encoder from torchvision-format weights (a file
	// `contrastive export --format torchvision` or
	// tools/export_torchvision.py writes) instead of a random init.
	Init  string  `yaml:"init,omitempty"`
	Stem  string  `yaml:"stem"`  // cifar | imagenet
	Width float64 `yaml:"width"` // ResNet width multiplier

	Epochs          int     `yaml:"epochs"`
	BatchSize       int     `yaml:"batch_size"`
	MaxSteps        int     `yaml:"max_steps"` // -1: no limit; 0: write the random-init checkpoint only
	CheckpointEvery int     `yaml:"checkpoint_every"`
	LogEvery        int     `yaml:"log_every"`
	Seed            uint64  `yaml:"seed"`
	Workers         int     `yaml:"workers"`
	Out             string  `yaml:"out"`
	Optimizer       string  `yaml:"optimizer"` // sgd | lars | adamw
	LR              float64 `yaml:"lr"`        // peak learning rate (0: the method's default, methods.DefaultLR)
	Momentum        float64 `yaml:"momentum"`
	WeightDecay     float64 `yaml:"weight_decay"`
	WarmupEpochs    float64 `yaml:"warmup_epochs"` // -1: min(10 epochs, 10% of the run)
	LARSEta         float64 `yaml:"lars_eta"`      // LARS trust coefficient (0.001: main_swav.py; solo-learn's CIFAR recipes 0.02)

	Temperature float64 `yaml:"temperature"` // 0: the method's default
	ProjHidden  int     `yaml:"proj_hidden"` // 0: the encoder's feature width
	ProjDim     int     `yaml:"proj_dim"`
	ProjBN      bool    `yaml:"proj_bn"`
	Augment     string  `yaml:"augment"` // augmentation preset; "": the method's
	// ImageSize is the side of the training views and of the evaluation
	// centre crop (torchvision's Resize(round(N/0.875)) + CenterCrop(N));
	// 0: the dataset's side when all its images share one, else 224. The
	// run's config.yaml and checkpoint hold the size used.
	ImageSize int `yaml:"image_size,omitempty"`

	// Methods holds the method-specific settings (moco, instdisc, pirl, swav).
	Methods methods.Options `yaml:"methods"`

	KNNEvery       int     `yaml:"knn_every"`       // epochs between online kNN evaluations (0: only at the end)
	KNNK           int     `yaml:"knn_k"`           // neighbours (200)
	KNNTemperature float64 `yaml:"knn_temperature"` // 0.07
	KNNTrainSize   int     `yaml:"knn_train_size"`  // training images used as the kNN memory (0: all)
	// CompareRandom evaluates the same encoder at its random
	// initialisation at the end, next to the trained one.
	CompareRandom bool `yaml:"compare_random"`
	// SyncBN computes batch-norm statistics over the global batch of a
	// data-parallel run (every process's part), as one process would.
	SyncBN bool `yaml:"sync_bn,omitempty"`
}

// DefaultConfig returns the defaults of every setting: SimCLR's CIFAR
// recipe scaled for a CPU (ResNet-18 with the CIFAR stem, SGD with
// momentum, a warm-up of min(10 epochs, 10% of the run) then cosine
// decay, τ = 0.5) on the embedded
// MNIST. The command's flags start from these values.
func DefaultConfig() Config {
	return Config{
		Method: "simclr", Data: "mnist",
		Arch: "resnet18", Stem: "cifar", Width: 1,
		Epochs: 100, BatchSize: 256, MaxSteps: -1, CheckpointEvery: 500, LogEvery: 10,
		Seed: 1, Out: "runs/simclr",
		Optimizer: "sgd", LR: 0, Momentum: 0.9, WeightDecay: 5e-4, WarmupEpochs: -1,
		ProjDim: 128,
		KNNK:    200, KNNTemperature: 0.07,
		Methods: methods.DefaultOptions(),
	}
}

// Validate reports the first configuration error as a *KeyError naming
// the key and the accepted range.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	for _, f := range []struct {
		key string
		v   float64
	}{{"width", c.Width}, {"lr", c.LR}, {"momentum", c.Momentum}, {"weight_decay", c.WeightDecay}, {"warmup_epochs", c.WarmupEpochs},
		{"lars_eta", c.LARSEta}, {"temperature", c.Temperature}, {"knn_temperature", c.KNNTemperature}} {
		if err := finite(f.key, f.v); err != nil {
			return err
		}
	}
	switch {
	case c.Method == "":
		return bad("method", "empty, want one of %s", strings.Join(methods.Names(), ", "))
	case !slices.Contains(methods.Names(), c.Method):
		return bad("method", "%q, want one of %s", c.Method, strings.Join(methods.Names(), ", "))
	case c.Data == "":
		return bad("data", "empty, want a dataset reference (mnist, a folder or an archive)")
	case c.Epochs < 1:
		return bad("epochs", "%d, want >= 1", c.Epochs)
	case c.BatchSize < 2:
		return bad("batch_size", "%d, want >= 2", c.BatchSize)
	case c.MaxSteps < -1:
		return bad("max_steps", "%d, want -1 (no limit) or >= 0", c.MaxSteps)
	case c.TrainSubset < 0:
		return bad("train_subset", "%d, want 0 (all images) or a positive count", c.TrainSubset)
	case c.CheckpointEvery < 0:
		return bad("checkpoint_every", "%d, want >= 0 (0: only at the end)", c.CheckpointEvery)
	case c.LogEvery < 0:
		return bad("log_every", "%d, want >= 0 (0: no metrics lines)", c.LogEvery)
	case c.KNNEvery < 0:
		return bad("knn_every", "%d, want >= 0 (0: only at the end)", c.KNNEvery)
	case c.Workers < 0:
		return bad("workers", "%d, want >= 0 (0: one per core)", c.Workers)
	case c.Out == "":
		return bad("out", "empty, want a run directory")
	case c.LR < 0:
		return bad("lr", "%g, want > 0 (or 0 for the method's default)", c.LR)
	case c.Width <= 0:
		return bad("width", "%g, want > 0", c.Width)
	case c.Momentum < 0 || c.Momentum >= 1:
		return bad("momentum", "%g, want 0 <= momentum < 1", c.Momentum)
	case c.WeightDecay < 0:
		return bad("weight_decay", "%g, want >= 0", c.WeightDecay)
	case c.Temperature < 0:
		return bad("temperature", "%g, want > 0 (or 0 for the method's default)", c.Temperature)
	case c.LARSEta < 0:
		return bad("lars_eta", "%g, want > 0 (or 0 for 0.001)", c.LARSEta)
	case c.ImageSize < 0 || c.ImageSize == 1 || (c.ImageSize > 1 && c.ImageSize < 8):
		return bad("image_size", "%d, want 0 (the dataset's side, else 224) or at least 8", c.ImageSize)
	case c.MaxPixels < 0:
		return bad("max_pixels", "%d, want >= 0 (0: PIL's 89478485)", c.MaxPixels)
	case c.WarmupEpochs < 0 && c.WarmupEpochs != -1:
		return bad("warmup_epochs", "%g, want >= 0 (or -1: min(10 epochs, 10%% of the run))", c.WarmupEpochs)
	case c.ProjHidden < 0:
		return bad("proj_hidden", "%d, want >= 1 (or 0 for the feature width)", c.ProjHidden)
	case c.ProjDim < 1:
		return bad("proj_dim", "%d, want >= 1", c.ProjDim)
	case c.KNNK < 1:
		return bad("knn_k", "%d, want >= 1", c.KNNK)
	case c.KNNTemperature <= 0:
		return bad("knn_temperature", "%g, want > 0", c.KNNTemperature)
	case c.KNNTrainSize < 0:
		return bad("knn_train_size", "%d, want >= 0 (0: all)", c.KNNTrainSize)
	}
	switch c.Optimizer {
	case "sgd", "lars", "adamw":
	default:
		return bad("optimizer", "%q, want sgd, lars or adamw", c.Optimizer)
	}
	var err error
	switch c.Method {
	case "moco":
		err = c.Methods.MoCo.Validate()
	case "instdisc":
		err = c.Methods.InstDisc.Validate()
	case "pirl":
		err = c.Methods.PIRL.Validate()
	case "swav":
		err = c.Methods.SwAV.Validate()
	}
	if err != nil {
		return methodError(c.Method, err)
	}
	return nil
}

// Resolve fills the settings whose defaults depend on others (the
// learning rate on the method and optimizer). Run calls it; config.yaml
// holds the resolved values.
func (c *Config) Resolve() {
	if c.LR == 0 {
		c.LR = methods.DefaultLR(c.Method, c.Optimizer)
	}
}

// LoadConfig reads a YAML config file over base (keys absent from the file
// keep base's values). Unknown keys and values of the wrong type are
// errors naming the file, the line and the key (*KeyError). Ranges are
// Validate's, once flags have overridden the file; LocateFile then says
// which line of the file set a value out of range.
func LoadConfig(path string, base Config) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return base, fmt.Errorf("config: %w", err)
	}
	return ParseConfig(path, b, base)
}

// ParseConfig is LoadConfig on bytes already read; name is used in errors.
func ParseConfig(name string, b []byte, base Config) (Config, error) {
	cfg := base
	dec := yaml.NewDecoder(bytesReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && err != io.EOF {
		return base, yamlError(name, b, err)
	}
	return cfg, nil
}

// Marshal returns the config as YAML.
func (c Config) Marshal() []byte {
	b, err := yaml.Marshal(c)
	if err != nil {
		panic(err) // a plain struct always marshals
	}
	return b
}

// simclrViews are the methods trained on SimCLR's two views (BYOL,
// SimSiam, Barlow Twins, VICReg and MoCo v3 use SimCLR-style augmentations
// in their papers; SupCon's is SimCLR's; the supervised baseline gets the
// same views so it differs from the others only in its loss).
var simclrViews = []string{"byol", "simsiam", "barlowtwins", "vicreg", "mocov3", "supcon", "supervised"}

// AugmentPreset is the augmentation preset of the run: Augment, or the
// method's own (moco-v1 or moco-v2 for MoCo, by version).
func (c Config) AugmentPreset() string {
	switch {
	case c.Augment != "":
		return c.Augment
	case c.Method == "moco":
		return c.Methods.MoCo.AugmentPreset()
	case c.Method == "dino":
		return "swav" // global and local crops
	case slices.Contains(simclrViews, c.Method):
		return "simclr"
	}
	return c.Method
}
