// Package train runs self-supervised pretraining: the step loop over a
// method, the optimizer and the loader, checkpoints that resume exactly,
// metrics.jsonl, loss curves, a NaN guard and the online kNN monitor.
package train
