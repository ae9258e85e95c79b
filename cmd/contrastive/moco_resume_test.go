package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"testing"
)

// mocoSteps is the length of the MoCo test runs.
const mocoSteps = 20

// mocoRun is a MoCo v2 run small enough for a test: a ResNet-18 of base
// width 4 on 16 MNIST images per batch, a queue of 40 keys (the ring wraps
// every 2.5 steps) and 4 shuffling-BN sub-batches.
func mocoRun(out string, extra ...string) []string {
	return append([]string{"pretrain", "--method", "moco", "--data", "mnist", "--width", "0.0625", "--batch-size", "16",
		"--max-steps", strconv.Itoa(mocoSteps), "--checkpoint-every", "2", "--log-every", "1", "--warmup-epochs", "0",
		"--lr", "0.03", "--workers", "2", "--seed", "9", "--out", out,
		"--moco-queue-size", "40", "--moco-bn-splits", "4", "--moco-momentum", "0.99"}, extra...)
}

// TestMoCoResumeIsExact kills a MoCo run with SIGKILL after a checkpoint
// and resumes it: loss curve, weights, key encoder, queue and queue
// pointer equal those of the uninterrupted run, bit for bit.
func TestMoCoResumeIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns training processes")
	}
	killAndResume(t, func(out string) []string { return mocoRun(out) }, mocoSteps, 5, // past the step-4 checkpoint
		"extra/queue", "extra/queue_ptr", "extra/encoder_k.conv1.weight", "extra/encoder_k.projector.2.weight")
}

// TestEvalMoCoCheckpoint evaluates a MoCo checkpoint: eval must normalise
// with the moco-v2 preset the run trained with (a regression: it asked
// for a preset named after the method, which does not exist for MoCo).
func TestEvalMoCoCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("extracts features of 10000 images")
	}
	dir := filepath.Join(t.TempDir(), "moco")
	var so, se bytes.Buffer
	if code := run(mocoRun(dir, "--max-steps", "0"), &so, &se); code != 0 {
		t.Fatalf("pretrain --max-steps 0: exit %d\n%s%s", code, so.String(), se.String())
	}
	res := evalJSON(t, "eval", "knn", "--checkpoint", dir, "--train", "mnist:test", "--test", "mnist:test", "--json")
	if res.Top1 < 0.3 || res.Top5 < res.Top1 {
		t.Fatalf("eval knn of the random-init MoCo encoder: %+v, want top1 >= 0.3", res)
	}
}
