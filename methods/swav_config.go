package methods

import (
	"flag"
	"fmt"
)

// SwAVConfig holds SwAV's own settings (YAML key "swav"); the paper's
// values (Caron et al., arXiv:2006.09882, and main_swav.py) are the
// defaults. The temperature τ = 0.1 is the shared Config.Temperature's
// default for SwAV.
type SwAVConfig struct {
	// Prototypes is the number K of prototypes (3000 on ImageNet); 0:
	// DefaultPrototypes (10 × the number of classes, at least 4 × the
	// embedding width; 3000 without labels).
	Prototypes int `yaml:"prototypes"`
	// Epsilon is the entropy regularisation ε of Sinkhorn-Knopp (0.05).
	Epsilon float64 `yaml:"epsilon"`
	// SinkhornIterations is the number of Sinkhorn-Knopp iterations (3).
	SinkhornIterations int `yaml:"sinkhorn_iterations"`
	// GlobalCrops is the number of leading views that are global
	// (high-resolution) crops: codes are computed from them only
	// (crops_for_assign = 0 … GlobalCrops−1). The swav augmentation
	// preset has 2.
	GlobalCrops int `yaml:"global_crops"`
	// LocalCrops is how many of the views after the global ones are used
	// as local crops; −1: all that the augmentation produces (6 for the
	// swav preset), 0: two-crop SwAV.
	LocalCrops int `yaml:"local_crops"`
	// FreezePrototypes is the number of first iterations during which the
	// prototypes are not updated (freeze_prototypes_niters: 313 at batch
	// 4096 on ImageNet, 5005 at batch 256, i.e. one epoch); −1: one epoch.
	FreezePrototypes int `yaml:"freeze_prototypes"`
	// QueueLength is the length of the feature queue whose embeddings join
	// the Sinkhorn-Knopp computation (3840 in the paper's small-batch
	// runs); 0: no queue.
	QueueLength int `yaml:"queue_length"`
	// QueueStartEpoch is the epoch from which the queue is filled (15); it
	// is used once full.
	QueueStartEpoch int `yaml:"queue_start_epoch"`
}

// CropsUsed is how many of the available views per image SwAV trains on:
// the global crops and then LocalCrops of the local ones (all when −1),
// never more than available.
func (c SwAVConfig) CropsUsed(available int) int {
	if c.LocalCrops < 0 {
		return available
	}
	return min(c.GlobalCrops+c.LocalCrops, available)
}

// Defaults sets the paper defaults.
func (c *SwAVConfig) Defaults() {
	*c = SwAVConfig{Epsilon: 0.05, SinkhornIterations: 3, GlobalCrops: 2, LocalCrops: -1,
		FreezePrototypes: -1, QueueStartEpoch: 15}
}

// Flags registers SwAV's command-line flags on fs.
func (c *SwAVConfig) Flags(fs *flag.FlagSet) {
	fs.IntVar(&c.Prototypes, "swav-prototypes", c.Prototypes, "SwAV: number of prototypes K (0: 10 x the number of classes but at least 4 x --proj-dim; 3000 without labels)")
	fs.Float64Var(&c.Epsilon, "swav-epsilon", c.Epsilon, "SwAV: Sinkhorn-Knopp entropy regularisation epsilon")
	fs.IntVar(&c.SinkhornIterations, "swav-sinkhorn-iterations", c.SinkhornIterations, "SwAV: Sinkhorn-Knopp iterations")
	fs.IntVar(&c.GlobalCrops, "swav-global-crops", c.GlobalCrops, "SwAV: number of leading global crops, whose codes are computed")
	fs.IntVar(&c.LocalCrops, "swav-local-crops", c.LocalCrops, "SwAV: local crops used after the global ones (-1: all the augmentation makes; 0: 2-crop SwAV)")
	fs.IntVar(&c.FreezePrototypes, "swav-freeze-prototypes", c.FreezePrototypes, "SwAV: iterations with frozen prototypes (-1: the first epoch)")
	fs.IntVar(&c.QueueLength, "swav-queue-length", c.QueueLength, "SwAV: feature queue length joining Sinkhorn-Knopp (0: none)")
	fs.IntVar(&c.QueueStartEpoch, "swav-queue-start-epoch", c.QueueStartEpoch, "SwAV: epoch from which the feature queue is filled")
}

// Validate reports the first invalid setting, naming its flag.
func (c SwAVConfig) Validate() error {
	switch {
	case c.Prototypes < 0:
		return fmt.Errorf("swav-prototypes: %d, want ≥ 1 (or 0 for the default)", c.Prototypes)
	case !(c.Epsilon > 0):
		return fmt.Errorf("swav-epsilon: %g, want > 0", c.Epsilon)
	case c.SinkhornIterations < 1:
		return fmt.Errorf("swav-sinkhorn-iterations: %d, want ≥ 1", c.SinkhornIterations)
	case c.GlobalCrops < 1:
		return fmt.Errorf("swav-global-crops: %d, want ≥ 1", c.GlobalCrops)
	case c.LocalCrops < -1:
		return fmt.Errorf("swav-local-crops: %d, want ≥ 0 or -1 (all)", c.LocalCrops)
	case c.GlobalCrops == 1 && c.LocalCrops == 0:
		return fmt.Errorf("swav: one global crop and no local crops leave no crop to predict from")
	case c.FreezePrototypes < -1:
		return fmt.Errorf("swav-freeze-prototypes: %d, want ≥ 0 or -1 (one epoch)", c.FreezePrototypes)
	case c.QueueLength < 0:
		return fmt.Errorf("swav-queue-length: %d, want ≥ 0", c.QueueLength)
	case c.QueueStartEpoch < 0:
		return fmt.Errorf("swav-queue-start-epoch: %d, want ≥ 0", c.QueueStartEpoch)
	}
	return nil
}

// OptimizerPreset is an optimizer recipe: the values of the pretrain
// flags --optimizer, --lr, --momentum, --weight-decay and --warmup-epochs.
type OptimizerPreset struct {
	Optimizer    string
	LR           float64
	FinalLR      float64 // end of the cosine schedule
	Momentum     float64
	WeightDecay  float64
	WarmupEpochs float64
}

// SwAVLARS is the paper's optimizer for batch size batchSize (main_swav.py
// and its bs256 scripts): LARS with trust coefficient η = 0.001 and no
// clipping, momentum 0.9, weight decay 10⁻⁶, base learning rate 0.6 per
// 256 images (4.8 at 4096) decayed by a cosine to 1/1000 of it, and no
// warm-up (the released training scripts pass --warmup_epochs 0). On the
// command line:
//
//	--optimizer lars --lr 0.6·B/256 --momentum 0.9 --weight-decay 1e-6 --warmup-epochs 0
//
// The training loop's LARS excludes biases and batch-norm parameters from
// weight decay and adaptation (SwAV's LARC adapts them too) and decays to
// 0 rather than to FinalLR: both differences are small.
func SwAVLARS(batchSize int) OptimizerPreset {
	lr := 0.6 * float64(batchSize) / 256
	return OptimizerPreset{Optimizer: "lars", LR: lr, FinalLR: lr / 1000, Momentum: 0.9, WeightDecay: 1e-6}
}
