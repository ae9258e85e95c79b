package train

import (
	"errors"
	"strings"
	"testing"
)

// TestConfigErrorsNameFileLineKey: every configuration error of a YAML
// file names the file, the line, the key and what is wanted.
func TestConfigErrorsNameFileLineKey(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"batch_size: many\n", `config c.yaml: line 1: batch_size: "many" is not an integer`},
		{"method: simclr\nlr: fast\n", `config c.yaml: line 2: lr: "fast" is not a number`},
		{"seed: -1\n", `config c.yaml: line 1: seed: "-1" is not a non-negative integer`},
		{"proj_bn: maybe\n", `config c.yaml: line 1: proj_bn: "maybe" is not true or false`},
		{"methods:\n  moco:\n    queue_size: lots\n", `config c.yaml: line 3: methods.moco.queue_size: "lots" is not an integer`},
		{"methods: 3\n", `config c.yaml: line 1: methods: "3" is not a mapping of keys`},
		{"epochz: 3\n", "config c.yaml: line 1: epochz: unknown key (known keys: arch, augment, batch_size,"},
		{"methods:\n  moco:\n    queue: 3\n", "config c.yaml: line 3: methods.moco.queue: unknown key (known keys in methods.moco: bn_splits, momentum, momentum_cosine_steps, queue_size, version)"},
		{"batch_size: 1\n", "config c.yaml: line 1: batch_size: 1, want >= 2"},
		{"epochs: 3\nlr: .nan\n", "config c.yaml: line 2: lr: NaN, want a finite number"},
		{"momentum: 1.5\n", "config c.yaml: line 1: momentum: 1.5, want 0 <= momentum < 1"},
		{"method: simklr\n", "config c.yaml: line 1: method: \"simklr\", want one of"},
		{"method: moco\nmethods:\n  moco:\n    momentum: 2\n", "config c.yaml: line 4: methods.moco.momentum: 2, want 0 < m < 1"},
		{"0\n", `config c.yaml: line 1: "0" is not a mapping of keys (want keys such as "method: simclr")`},
		{"optimizer: rmsprop\n", `config c.yaml: line 1: optimizer: "rmsprop", want sgd, lars or adamw`},
	} {
		cfg, err := ParseConfig("c.yaml", []byte(c.yaml), DefaultConfig())
		if err == nil {
			err = Locate(cfg.Validate(), "c.yaml", []byte(c.yaml))
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.yaml, err, c.want)
		}
	}
	// A value out of range that the file does not set is not the file's.
	base := DefaultConfig()
	base.BatchSize = 1
	cfg, err := ParseConfig("c.yaml", []byte("epochs: 2\n"), base)
	if err != nil {
		t.Fatal(err)
	}
	err = Locate(cfg.Validate(), "c.yaml", []byte("epochs: 2\n"))
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Key != "batch_size" || ke.File != "" || err.Error() != "config: batch_size: 1, want >= 2" {
		t.Errorf("Validate: %v, want a KeyError for batch_size", err)
	}
	if FlagName("methods.moco.queue_size") != "moco-queue-size" || FlagName("batch_size") != "batch-size" || keyOfFlag("swav-sinkhorn-iterations") != "methods.swav.sinkhorn_iterations" {
		t.Errorf("flag names: %s %s %s", FlagName("methods.moco.queue_size"), FlagName("batch_size"), keyOfFlag("swav-sinkhorn-iterations"))
	}
}
