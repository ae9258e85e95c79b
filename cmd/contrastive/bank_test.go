package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
			base := t.TempDir()
			full, cut := filepath.Join(base, "full"), filepath.Join(base, "cut")
			var so, se bytes.Buffer
			if code := run(bankRun(method, full), &so, &se); code != 0 {
				t.Fatalf("uninterrupted run: exit %d\n%s%s", code, so.String(), se.String())
			}
			cmd := child(bankRun(method, cut)...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitForLines(t, cut, 5, cmd) // past the step-4 checkpoint
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			if steps, err := weights(t, cut).Ints("train/step"); err != nil || steps[0] >= bankSteps {
				t.Fatalf("checkpoint of the killed run: step %v (%v), want one before the end", steps, err)
			}
			if code := run([]string{"pretrain", "--resume", cut}, &so, &se); code != 0 {
				t.Fatalf("resumed run: exit %d\n%s%s", code, so.String(), se.String())
			}
			if !strings.Contains(so.String(), "resumed") {
				t.Fatalf("the second run did not resume:\n%s", so.String())
			}
			want, got := losses(t, full), losses(t, cut)
			if len(want) != bankSteps || len(got) != len(want) {
				t.Fatalf("loss curves have %d and %d steps, want %d", len(want), len(got), bankSteps)
			}
			for i := range want {
				if want[i] != got[i] {
					t.Fatalf("step %d: resumed loss %v, uninterrupted %v", i+1, got[i], want[i])
				}
			}
			wf, gf := weights(t, full), weights(t, cut)
			for _, name := range []string{"extra/memory_bank", "extra/nce_log_z", "conv1.weight"} {
				if _, ok := wf.Entries[name]; !ok {
					t.Fatalf("no %s in the checkpoint", name)
				}
			}
			for _, name := range wf.Names() {
				g, ok := gf.Entries[name]
				if !ok || !bytes.Equal(g.Data, wf.Entries[name].Data) {
					t.Fatalf("tensor %s differs between the resumed and the uninterrupted run", name)
				}
			}
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
