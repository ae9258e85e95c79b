package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// bankSteps is the length of the test runs: enough that a run is still
// going when the test kills it after its second checkpoint.
const bankSteps = 20

// bankRun is a pretraining run of a memory-bank method small enough for a
// test: a ResNet-18 of base width 4 on 16 MNIST images per batch, with
// the papers' NCE loss and random bank.
func bankRun(method, out string, extra ...string) []string {
	return append([]string{"pretrain", "--method", method, "--data", "mnist", "--width", "0.0625", "--batch-size", "16",
		"--max-steps", strconv.Itoa(bankSteps), "--checkpoint-every", "2", "--log-every", "1", "--warmup-epochs", "0",
		"--lr", "0.03", "--workers", "2", "--seed", "5", "--out", out, "--instdisc-negatives", "64", "--pirl-negatives", "64",
		// the papers' NCE with a random bank: exercises log Z, and skips
		// embedding all 60,000 images for a features-initialised bank
		"--instdisc-loss", "nce", "--instdisc-bank-init", "random", "--pirl-loss", "nce", "--pirl-bank-init", "random"}, extra...)
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

// TestBankKNNMonitor trains InstDisc on a 256-image subset of MNIST and
// checks that the kNN monitor also evaluates against the memory bank (one
// row per subset image, labelled with the subset's labels) and reports it
// in the summary and the metrics.
func TestBankKNNMonitor(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small run")
	}
	dir := filepath.Join(t.TempDir(), "run")
	var so, se bytes.Buffer
	args := bankRun("instdisc", dir, "--train-subset", "256", "--max-steps", "32", "--epochs", "2", "--test-data", "mnist:test",
		"--knn-every", "1", "--knn-train-size", "256", "--json")
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, so.String(), se.String())
	}
	lines := strings.Split(strings.TrimSpace(so.String()), "\n")
	var sum struct {
		Steps   int `json:"steps"`
		BankKNN *struct {
			Top1, Top5 float64
		} `json:"bank_knn"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("summary %q: %v", lines[len(lines)-1], err)
	}
	// 256 images in batches of 16: 16 steps an epoch, two epochs. (The
	// accuracy of the bank kNN is checked against an oracle in package
	// methods; a run this short only shows that it is wired in.)
	if sum.Steps != 32 || sum.BankKNN == nil || !(sum.BankKNN.Top1 > 0) || !(sum.BankKNN.Top5 >= sum.BankKNN.Top1) || sum.BankKNN.Top5 > 1 {
		t.Fatalf("summary %+v (bank kNN %+v): want 32 steps and a bank kNN with 0 < top-1 <= top-5 <= 1", sum, sum.BankKNN)
	}
	if !strings.Contains(so.String(), "bank kNN top-1") {
		t.Errorf("no bank kNN line after epoch 1:\n%s", so.String())
	}
	recs, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(recs), `"bank_knn_top1"`); n != 2 {
		t.Errorf("metrics.jsonl has %d bank kNN records, want 2 (epoch 1 and the end)", n)
	}
}

// TestSwAVReportInMetrics trains SwAV for 3 steps and checks that every
// logged step carries the code and prediction entropies, in nats, within
// (0, log K].
func TestSwAVReportInMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a small run")
	}
	dir := filepath.Join(t.TempDir(), "run")
	var so, se bytes.Buffer
	args := []string{"pretrain", "--method", "swav", "--data", "mnist", "--width", "0.0625", "--batch-size", "16",
		"--max-steps", "3", "--log-every", "1", "--warmup-epochs", "0", "--swav-local-crops", "0", "--swav-prototypes", "64",
		"--workers", "2", "--seed", "5", "--out", dir}
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, so.String(), se.String())
	}
	f, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(f)), "\n")
	if len(lines) != 3 {
		t.Fatalf("metrics.jsonl has %d lines, want 3:\n%s", len(lines), f)
	}
	for _, l := range lines {
		var rec struct {
			Method map[string]float64 `json:"method"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"code_entropy", "pred_entropy"} {
			if h := rec.Method[k]; !(h > 0 && h <= math.Log(64)+1e-9) {
				t.Errorf("%s: %s = %v, want in (0, log 64]", l, k, h)
			}
		}
	}
	if !strings.Contains(so.String(), "code_entropy") {
		t.Errorf("the progress lines do not show the entropies:\n%s", so.String())
	}
}
