package methods

import (
	"flag"
	"fmt"
	"math/bits"
)

// MoCoConfig holds MoCo's own settings (YAML key "moco"). A zero field
// means its default (Defaults), so a config written before a field existed
// still loads.
type MoCoConfig struct {
	// Version selects MoCo v1 (linear 128-d head, τ = 0.07, the moco-v1
	// augmentations) or v2 (MLP head, τ = 0.2, moco-v2 augmentations with
	// blur). Default 2.
	Version int `yaml:"version"`
	// QueueSize is K, the number of negative keys in the queue. 0 sizes it
	// to the dataset: an eighth of it rounded down to a power of two (so
	// that every power-of-two batch size divides it), between 16 and the
	// paper's 65536 — 4096 for CIFAR-10 and MNIST, as in the MoCo authors'
	// CIFAR-10 demo. Other sizes work too: the queue is a ring.
	QueueSize int `yaml:"queue_size"`
	// Momentum is m in θ_k ← m·θ_k + (1−m)·θ_q (default 0.999).
	Momentum float64 `yaml:"momentum"`
	// MomentumCosineSteps, when positive, raises m to 1 along a half cosine
	// over that many optimizer steps (BYOL's schedule, arXiv:2006.07733):
	// m_t = 1 − (1 − m)·(cos(πt/T) + 1)/2. Set it to the run's total steps.
	// 0 keeps m constant, as MoCo does.
	MomentumCosineSteps int `yaml:"momentum_cosine_steps"`
	// BNSplits is the single-device shuffling batch norm: the key batch is
	// shuffled and encoded in BNSplits sub-batches, each with its own
	// batch-norm statistics, then un-shuffled; the query batch is encoded
	// in as many sub-batches in its own order. This stands in for MoCo's
	// 8-GPU shuffling BN. 1 turns it off (one batch, no shuffle).
	// Default 8.
	BNSplits int `yaml:"bn_splits"`
}

// The paper defaults.
const (
	mocoDefaultVersion  = 2
	mocoDefaultMomentum = 0.999
	mocoDefaultSplits   = 8
	mocoMaxQueue        = 65536
	mocoMinQueue        = 16
)

// Defaults fills zero fields with the paper defaults: v2, m = 0.999,
// 8 BN splits; the queue size stays 0 (sized to the dataset when the
// method is built, see QueueSize).
func (c *MoCoConfig) Defaults() {
	if c.Version == 0 {
		c.Version = mocoDefaultVersion
	}
	if c.Momentum == 0 {
		c.Momentum = mocoDefaultMomentum
	}
	if c.BNSplits == 0 {
		c.BNSplits = mocoDefaultSplits
	}
}

// Validate reports the first invalid setting, naming its flag.
func (c *MoCoConfig) Validate() error {
	switch {
	case c.Version != 0 && c.Version != 1 && c.Version != 2:
		return fmt.Errorf("moco-version: %d, want 1 or 2", c.Version)
	case c.QueueSize < 0:
		return fmt.Errorf("moco-queue-size: %d, want >= 1 (0: sized to the dataset)", c.QueueSize)
	case c.Momentum < 0 || c.Momentum >= 1:
		return fmt.Errorf("moco-momentum: %g, want 0 < m < 1", c.Momentum)
	case c.MomentumCosineSteps < 0:
		return fmt.Errorf("moco-momentum-cosine-steps: %d, want >= 0", c.MomentumCosineSteps)
	case c.BNSplits < 0:
		return fmt.Errorf("moco-bn-splits: %d, want >= 1 (1: no shuffling BN)", c.BNSplits)
	}
	return nil
}

// AugmentPreset is the augmentation preset of the configured version:
// "moco-v1" or "moco-v2".
func (c MoCoConfig) AugmentPreset() string {
	if c.Version == 1 {
		return "moco-v1"
	}
	return "moco-v2"
}

// queueSize returns K for a dataset of n images (see QueueSize).
func (c MoCoConfig) queueSize(n int) int {
	if c.QueueSize > 0 {
		return c.QueueSize
	}
	k := max(n/8, 1)
	k = 1 << (bits.Len(uint(k)) - 1) // round down to a power of two
	return min(max(k, mocoMinQueue), mocoMaxQueue)
}

// Flags registers MoCo's command-line flags on fs.
func (c *MoCoConfig) Flags(fs *flag.FlagSet) {
	fs.IntVar(&c.Version, "moco-version", c.Version, "MoCo version: 1 (linear head, τ 0.07) or 2 (MLP head, τ 0.2, blur); picks the moco-v1/moco-v2 augmentations (0: 2)")
	fs.IntVar(&c.QueueSize, "moco-queue-size", c.QueueSize, "MoCo queue size K (0: an eighth of the dataset rounded down to a power of two, at most 65536)")
	fs.Float64Var(&c.Momentum, "moco-momentum", c.Momentum, "MoCo key-encoder momentum m (0: 0.999)")
	fs.IntVar(&c.MomentumCosineSteps, "moco-momentum-cosine-steps", c.MomentumCosineSteps, "raise the MoCo momentum to 1 along a half cosine over N steps (0: constant)")
	fs.IntVar(&c.BNSplits, "moco-bn-splits", c.BNSplits, "MoCo shuffling BN: encode shuffled keys (and queries) in N sub-batches with their own BN statistics (1: off; 0: 8)")
}
