package methods

import (
	"flag"
	"fmt"
)

// PIRLConfig holds PIRL's own settings (YAML key "pirl").
type PIRLConfig struct {
	// Lambda weighs the two NCE terms: L = λ·L_NCE(m_I, g(v_{I^t})) +
	// (1−λ)·L_NCE(m_I, f(v_I)) (0.5).
	Lambda float64 `yaml:"lambda"`
	// Negatives is the number of bank rows drawn as noise each step; 0
	// sizes it to the dataset (see PIRLNegatives).
	Negatives int `yaml:"negatives"`
	// BankMomentum is μ of the memory-bank update (0.5).
	BankMomentum float64 `yaml:"bank_momentum"`
	// Loss is "nce" (the paper's noise-contrastive estimation with a fixed
	// normalising constant; "" means nce) or "softmax": the cross-entropy
	// over the positive and the noise rows (InfoNCE with bank negatives),
	// which does not depend on an estimate of Z and is steadier on short
	// runs.
	Loss string `yaml:"loss,omitempty"`
	// BankInit is how the bank starts: "random" unit vectors (the paper;
	// "" means random) or the "features" f of every training image under
	// the initial networks (see BankInitializer).
	BankInit string `yaml:"bank_init,omitempty"`
}

// Defaults sets what learns without tuning: λ = 0.5, negatives sized to
// the dataset, μ = 0.5, the softmax over the bank negatives and a bank
// initialised from the initial network's embeddings. The paper's NCE with
// a random bank is configs/paper/pirl.yaml.
func (c *PIRLConfig) Defaults() {
	*c = PIRLConfig{Lambda: 0.5, BankMomentum: 0.5, Loss: "softmax", BankInit: "features"}
}

// Flags registers PIRL's command-line flags on fs.
func (c *PIRLConfig) Flags(fs *flag.FlagSet) {
	fs.Float64Var(&c.Lambda, "pirl-lambda", c.Lambda, "pirl: weight λ of the jigsaw term (1−λ: the image term)")
	fs.IntVar(&c.Negatives, "pirl-negatives", c.Negatives, "pirl: noise samples drawn from the bank per step (0: min(32000, max(4096, N/40)))")
	fs.Float64Var(&c.BankMomentum, "pirl-bank-momentum", c.BankMomentum, "pirl: memory-bank EMA momentum μ")
	fs.StringVar(&c.Loss, "pirl-loss", c.Loss, "pirl: loss of both terms, nce or softmax")
	fs.StringVar(&c.BankInit, "pirl-bank-init", c.BankInit, "pirl: memory-bank start, random (the paper) or features (image embeddings under the initial network)")
}

// Validate reports invalid settings.
func (c *PIRLConfig) Validate() error {
	if !(c.Lambda >= 0 && c.Lambda <= 1) {
		return fmt.Errorf("pirl: λ %v, want 0 ≤ λ ≤ 1", c.Lambda)
	}
	if c.Loss != "" && c.Loss != "nce" && c.Loss != "softmax" {
		return fmt.Errorf("pirl: loss %q, want nce or softmax", c.Loss)
	}
	if err := checkBankInit("pirl", c.BankInit); err != nil {
		return err
	}
	if c.Negatives < 0 {
		return fmt.Errorf("pirl: %d negatives, want ≥ 0 (0: sized to the dataset)", c.Negatives)
	}
	if !(c.BankMomentum >= 0 && c.BankMomentum < 1) {
		return fmt.Errorf("pirl: bank momentum %v, want 0 ≤ μ < 1", c.BankMomentum)
	}
	return nil
}

// PIRLNegatives is the number of noise samples PIRL draws for a dataset
// of n images when Negatives is 0: the paper's 32000 on ImageNet (2.5% of
// its 1.28M images), n/40 on other large sets, but never fewer than
// InstDisc's 4096, which is what CIFAR-10 and MNIST get.
func PIRLNegatives(n int) int {
	return min(32000, max(4096, n/40))
}
