package train

import (
	"path/filepath"
	"strings"
	"testing"

	"contrastive/data"
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

// TestEveryRecipeBuilds loads every config under configs/, validates it and
// builds its method (a CIFAR-10-sized dataset: 50,000 images, 10 classes),
// so a recipe cannot ship with a key, value or method setting that fails.
func TestEveryRecipeBuilds(t *testing.T) {
	files, err := filepath.Glob("../configs/*.yaml")
	if err != nil || len(files) < 6 {
		t.Fatalf("configs: %v, %v", files, err)
	}
	for _, f := range files {
		cfg, err := LoadConfig(f, DefaultConfig())
		if err != nil {
			t.Fatal(err)
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

// recipeDataset stands in for CIFAR-10's training set when building a
// recipe's method.
type recipeDataset struct{ data.Dataset }

func (recipeDataset) Len() int        { return 50000 }
func (recipeDataset) NumClasses() int { return 10 }
