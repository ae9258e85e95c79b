package train

import (
	"context"
	"testing"
)

// TestDefaultsLearn trains InstDisc at its defaults (every setting but
// --method and the size of the run) on the embedded MNIST for 150 steps
// of 32 images, a ResNet-18 of base width 4, and requires the kNN top-1
// of the trained encoder to beat the same encoder at its random
// initialisation by 2 points. InstDisc's paper setting (NCE, random bank)
// ended 37 points below random init, so its defaults changed; this pins
// one seed's run of the new defaults. It is a regression check of that
// run, not evidence that every default learns: at this size the outcome
// moves by ±10 points with the seed (measured with seeds 1/2/3, gain in
// points: InstDisc +7.9/−15.7/+2.9, SimCLR +5.3/−4.8/−0.7, MoCo v3
// −3.8/−19.8/−9.4, the random-init encoder itself 39.6/50.0/47.4%), and
// MoCo v3, tested here before, passed (+7.4) only until a change of
// float rounding in the tiny-map convolutions moved it to −3.8. The run
// trains on 1024 images so the memory bank sees each one four to five
// times (--train-subset); kNN uses 2000 training images as memory and the
// 10,000 test images as queries.
func TestDefaultsLearn(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small encoder for 150 steps")
	}
	floors := map[string]float64{"instdisc": 0.02}
	for _, method := range []string{"instdisc"} {
		t.Run(method, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Method, cfg.Data, cfg.TestData = method, "mnist", "mnist:test"
			cfg.Width, cfg.BatchSize, cfg.MaxSteps, cfg.TrainSubset = 0.0625, 32, 150, 1024
			cfg.KNNTrainSize, cfg.CompareRandom = 2000, true
			cfg.CheckpointEvery, cfg.LogEvery, cfg.Workers = 0, 0, 2
			cfg.Out = t.TempDir()
			sum, err := Run(context.Background(), cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			gain := sum.KNN.Top1 - sum.RandomKNN.Top1
			t.Logf("%s: kNN %.2f%% vs random init %.2f%% (%+.2f) after %d steps (%.2f epochs, warm-up %d steps)",
				method, 100*sum.KNN.Top1, 100*sum.RandomKNN.Top1, 100*gain, sum.Steps, sum.Epochs, sum.WarmupSteps)
			if gain < floors[method] {
				t.Errorf("%s at its defaults: kNN %.2f%%, random init %.2f%%: gain %.2f points, want ≥ %.0f",
					method, 100*sum.KNN.Top1, 100*sum.RandomKNN.Top1, 100*gain, 100*floors[method])
			}
			if sum.WarmupSteps != 15 {
				t.Errorf("warm-up %d steps, want 10%% of the 150-step run", sum.WarmupSteps)
			}
		})
	}
}
