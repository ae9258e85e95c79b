package methods

import (
	"flag"
	"fmt"
)

// InstDiscConfig holds InstDisc's own settings (YAML key "instdisc").
type InstDiscConfig struct {
	// Loss is "nce" (the paper's noise-contrastive estimation) or
	// "softmax" (cross-entropy over the positive and the negatives,
	// "NPID++" in PIRL's reimplementation).
	Loss string `yaml:"loss"`
	// Negatives is m, the bank rows drawn uniformly as noise each step
	// (4096, the paper's setting); 0 with the softmax loss takes the
	// softmax over the whole bank (the paper's Eq. 2, no sampling).
	Negatives int `yaml:"negatives"`
	// BankMomentum is μ in m_i ← normalise(μ·m_i + (1−μ)·f_i) (0.5).
	BankMomentum float64 `yaml:"bank_momentum"`
	// Proximal is λ of the proximal regularisation λ‖v_i − m_i‖²
	// (§3.4); 0 turns it off, the paper uses 30.
	Proximal float64 `yaml:"proximal"`
	// BankInit is how the bank starts: "random" unit vectors (the paper;
	// "" means random) or the "features" of every training image under
	// the initial networks (see BankInitializer).
	BankInit string `yaml:"bank_init,omitempty"`
}

// Defaults sets what learns without tuning: the softmax over m = 4096
// bank negatives (NPID++), a bank initialised from the initial network's
// embeddings, μ = 0.5, no proximal term. The paper's NCE with a random
// bank (configs/paper/instdisc.yaml) ended a 1000-step run 37 points below
// the random-init encoder on Fashion-MNIST; see the README.
func (c *InstDiscConfig) Defaults() {
	*c = InstDiscConfig{Loss: "softmax", Negatives: 4096, BankMomentum: 0.5, BankInit: "features"}
}

// bankTemperature is the default τ of the memory-bank methods: 0.1 for the
// softmax (lemniscate's CIFAR value, the recipes'), the papers' 0.07 for
// NCE.
func bankTemperature(lossKind string) float32 {
	if lossKind == "softmax" {
		return 0.1
	}
	return 0.07
}

// Flags registers InstDisc's command-line flags on fs. --loss is the
// issue's spelling of --instdisc-loss; both set the same field.
func (c *InstDiscConfig) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Loss, "instdisc-loss", c.Loss, "instdisc: loss, nce or softmax")
	fs.StringVar(&c.Loss, "loss", c.Loss, "instdisc: same as --instdisc-loss")
	fs.IntVar(&c.Negatives, "instdisc-negatives", c.Negatives, "instdisc: noise samples drawn from the bank per step (0 with --instdisc-loss softmax: the whole bank)")
	fs.Float64Var(&c.BankMomentum, "instdisc-bank-momentum", c.BankMomentum, "instdisc: memory-bank EMA momentum μ")
	fs.StringVar(&c.BankInit, "instdisc-bank-init", c.BankInit, "instdisc: memory-bank start, random (the paper) or features (embeddings of the training images under the initial network)")
	fs.Float64Var(&c.Proximal, "instdisc-proximal", c.Proximal, "instdisc: proximal regularisation λ (0: off; the paper uses 30)")
}

// Validate reports invalid settings.
func (c *InstDiscConfig) Validate() error {
	switch c.Loss {
	case "nce", "softmax":
	default:
		return fmt.Errorf("instdisc: loss %q, want nce or softmax", c.Loss)
	}
	if c.Negatives < 0 || c.Negatives == 0 && c.Loss == "nce" {
		return fmt.Errorf("instdisc: %d negatives, want ≥ 1 (0, the whole bank, only with the softmax loss)", c.Negatives)
	}
	if !(c.BankMomentum >= 0 && c.BankMomentum < 1) {
		return fmt.Errorf("instdisc: bank momentum %v, want 0 ≤ μ < 1", c.BankMomentum)
	}
	if err := checkBankInit("instdisc", c.BankInit); err != nil {
		return err
	}
	if !(c.Proximal >= 0) || c.Proximal > 1e6 {
		return fmt.Errorf("instdisc: proximal λ %v, want ≥ 0", c.Proximal)
	}
	return nil
}
