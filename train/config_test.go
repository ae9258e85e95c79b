package train

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/methods"
)

func TestShippedRecipeParses(t *testing.T) {
	cfg, err := LoadConfig("../configs/simclr-cifar10.yaml", DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Method != "simclr" || cfg.Width != 0.25 || cfg.Epochs != 14 || !cfg.ProjBN || cfg.Temperature != 0.5 {
		t.Fatalf("recipe parsed as %+v", cfg)
	}
	// Keys absent from the file keep the defaults.
	if cfg.KNNK != 200 || cfg.Methods.MoCo.Version != 2 {
		t.Fatalf("defaults lost: knn_k %d, moco version %d", cfg.KNNK, cfg.Methods.MoCo.Version)
	}
	cfg.Resolve()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := ParseConfig("bad.yaml", []byte("method: simclr\nepochz: 3\n"), DefaultConfig())
	if err == nil || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), "epochz") {
		t.Fatalf("unknown key: err = %v, want one naming the file and the key", err)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.Epochs = 0 },
		func(c *Config) { c.BatchSize = 1 },
		func(c *Config) { c.Optimizer = "rmsprop" },
		func(c *Config) { c.LR = -1 },
		func(c *Config) { c.MaxSteps = -2 },
	} {
		c := DefaultConfig()
		bad(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("config %+v validated", c)
		}
	}
	c := DefaultConfig()
	c.Resolve()
	if c.LR != 0.3 {
		t.Fatalf("simclr default lr %v, want 0.3", c.LR)
	}
	c = DefaultConfig()
	c.Method = "moco"
	c.Resolve()
	if c.LR != 0.06 {
		t.Fatalf("moco default lr %v, want 0.06", c.LR)
	}
}

// TestEveryRecipeBuilds loads every config under configs/ and
// configs/paper/ (one per method, each naming its paper), validates it
// and builds its method (a CIFAR-10-sized dataset: 50,000 images, 10
// classes), so a recipe cannot ship with a key, value or method setting
// that fails.
func TestEveryRecipeBuilds(t *testing.T) {
	files, err := filepath.Glob("../configs/*.yaml")
	if err != nil || len(files) < 6 {
		t.Fatalf("configs: %v, %v", files, err)
	}
	paper, err := filepath.Glob("../configs/paper/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := methods.Names()
	if len(paper) != len(names) {
		t.Errorf("configs/paper has %d files for %d methods %v", len(paper), len(names), names)
	}
	for _, f := range paper {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "arXiv:") {
			t.Errorf("%s cites no paper (arXiv id)", f)
		}
		if m := strings.TrimSuffix(filepath.Base(f), ".yaml"); !slices.Contains(names, m) {
			t.Errorf("%s: no method %q", f, m)
		}
	}
	for _, f := range append(files, paper...) {
		cfg, err := LoadConfig(f, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(filepath.Dir(f)) == "paper" {
			if want := strings.TrimSuffix(filepath.Base(f), ".yaml"); cfg.Method != want {
				t.Errorf("%s: method %q", f, cfg.Method)
			}
			shrink(&cfg)
		}
		cfg.Resolve()
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := newMethod(cfg, 3, recipeDataset{}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

// shrink keeps a paper config's settings but makes its networks small
// enough to build in a test: ResNet-18 at width 1/16, heads of 64 units
// (the papers' 8192-wide projectors and 65536 DINO outputs would take
// gigabytes).
func shrink(c *Config) {
	c.Arch, c.Width = "resnet18", 0.0625
	c.ProjHidden, c.ProjDim = min(c.ProjHidden, 64), min(c.ProjDim, 64)
	o := &c.Methods
	o.BarlowTwins.Dim = min(o.BarlowTwins.Dim, 64)
	o.VICReg.Dim = min(o.VICReg.Dim, 64)
	o.SimSiam.Dim, o.SimSiam.PredHidden = min(o.SimSiam.Dim, 64), min(o.SimSiam.PredHidden, 16)
	o.BYOL.PredHidden = min(o.BYOL.PredHidden, 64)
	o.DINO.Prototypes = min(o.DINO.Prototypes, 64)
	o.MoCo.QueueSize = min(o.MoCo.QueueSize, 64)
	o.SwAV.Prototypes = min(o.SwAV.Prototypes, 64)
}

// recipeDataset stands in for CIFAR-10's training set when building a
// recipe's method.
type recipeDataset struct{ data.Dataset }

func (recipeDataset) Len() int        { return 50000 }
func (recipeDataset) NumClasses() int { return 10 }
