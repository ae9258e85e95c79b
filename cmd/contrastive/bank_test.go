package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// bankSteps is the length of the test runs: enough that a run is still
// going when the test kills it after its second checkpoint.
const bankSteps = 20

// bankRun is a pretraining run of a memory-bank method small enough for a
// test: a ResNet-18 of base width 4 on 16 MNIST images per batch.
func bankRun(method, out string, extra ...string) []string {
	return append([]string{"pretrain", "--method", method, "--data", "mnist", "--width", "0.0625", "--batch-size", "16",
		"--max-steps", strconv.Itoa(bankSteps), "--checkpoint-every", "2", "--log-every", "1", "--warmup-epochs", "0",
		"--lr", "0.03", "--workers", "2", "--seed", "5", "--out", out, "--instdisc-negatives", "64", "--pirl-negatives", "64"}, extra...)
}

// TestBankMethodsResumeIsExact kills InstDisc and PIRL runs with SIGKILL
// after a checkpoint and resumes them: loss curve, weights, memory bank
// and log Z equal those of the uninterrupted run, bit for bit.
func TestBankMethodsResumeIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns training processes")
	}
	for _, method := range []string{"instdisc", "pirl"} {
		t.Run(method, func(t *testing.T) {
			killAndResume(t, func(out string) []string { return bankRun(method, out) }, bankSteps, 5, // past the step-4 checkpoint
				"extra/memory_bank", "extra/nce_log_z")
		})
	}
}

// TestBankSizeMismatchOnResume resumes an InstDisc run trained on MNIST's
// 60000 training images with the 10000 test images as training data: a
// clear error before any training.
func TestBankSizeMismatchOnResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small run")
	}
	dir := filepath.Join(t.TempDir(), "run")
	var so, se bytes.Buffer
	if code := run(bankRun("instdisc", dir, "--max-steps", "1"), &so, &se); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, so.String(), se.String())
	}
	so.Reset()
	se.Reset()
	code := run([]string{"pretrain", "--resume", dir, "--data", "mnist:test", "--max-steps", "3"}, &so, &se)
	if code == 0 || !strings.Contains(se.String(), "memory bank has 60000 rows but the dataset has 10000 samples") {
		t.Fatalf("exit %d, stderr %q: want the bank-size error", code, se.String())
	}
	if strings.Contains(so.String(), "step 2/") {
		t.Fatalf("training started before the error:\n%s", so.String())
	}
}
