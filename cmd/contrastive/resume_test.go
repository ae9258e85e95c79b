package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/train"
)

// tinyRun is a pretraining run small enough for a test: a ResNet-18 of
// base width 4 on 16 MNIST images per batch, a checkpoint every 3 steps.
func tinyRun(out string, extra ...string) []string {
	return append([]string{"pretrain", "--data", "mnist", "--width", "0.0625", "--batch-size", "16",
		"--max-steps", "12", "--checkpoint-every", "3", "--log-every", "1", "--warmup-epochs", "0",
		"--lr", "0.05", "--workers", "2", "--seed", "7", "--out", out}, extra...)
}

// TestMain lets the test binary act as the contrastive command in a child
// process, so the resume test can kill it with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("CONTRASTIVE_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func child(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CONTRASTIVE_AS_MAIN=1")
	return cmd
}

func losses(t *testing.T, dir string) []float64 {
	t.Helper()
	recs, err := train.ReadMetrics(filepath.Join(dir, train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, r := range recs {
		if r.KNNTop1 == nil {
			out = append(out, r.Loss)
		}
	}
	return out
}

func weights(t *testing.T, dir string) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read(filepath.Join(dir, train.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// waitForLines waits until the run's metrics file has at least n lines.
func waitForLines(t *testing.T, dir string, n int, cmd *exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(filepath.Join(dir, train.MetricsFile))
		if bytes.Count(b, []byte("\n")) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatalf("run in %s did not log %d steps in time", dir, n)
}

// killAndResume runs args(out) to the end in-process, runs it again in a
// child process that is killed with SIGKILL once killAfter steps are
// logged, resumes that run, and requires the loss curve and every
// checkpoint tensor (mustHave among them) to equal those of the
// uninterrupted run, bit for bit.
func killAndResume(t *testing.T, args func(out string) []string, steps, killAfter int, mustHave ...string) {
	t.Helper()
	base := t.TempDir()
	full, cut := filepath.Join(base, "full"), filepath.Join(base, "cut")
	var so, se bytes.Buffer
	if code := run(args(full), &so, &se); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s%s", code, so.String(), se.String())
	}
	cmd := child(args(cut)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForLines(t, cut, killAfter, cmd)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if st, err := weights(t, cut).Ints("train/step"); err != nil || st[0] >= steps {
		t.Fatalf("checkpoint of the killed run: step %v (%v), want one before the end", st, err)
	}
	so.Reset()
	se.Reset()
	if code := run([]string{"pretrain", "--resume", cut}, &so, &se); code != 0 {
		t.Fatalf("resumed run: exit %d\n%s%s", code, so.String(), se.String())
	}
	if !strings.Contains(so.String(), "resumed") {
		t.Fatalf("the second run did not resume:\n%s", so.String())
	}
	want, got := losses(t, full), losses(t, cut)
	if len(want) != steps || len(got) != len(want) {
		t.Fatalf("loss curves have %d and %d steps, want %d", len(want), len(got), steps)
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("step %d: resumed loss %v, uninterrupted %v", i+1, got[i], want[i])
		}
	}
	wf, gf := weights(t, full), weights(t, cut)
	for _, name := range append(mustHave, "conv1.weight") {
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
}

// TestKillAndResumeIsExact kills a SimCLR run with SIGKILL mid-epoch,
// past its step-6 checkpoint, and resumes it exactly.
func TestKillAndResumeIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns training processes")
	}
	killAndResume(t, func(out string) []string { return tinyRun(out) }, 12, 7, "projector.0.weight", "optim/momentum_buffer/conv1.weight")
}

// TestInterruptWritesCheckpoint sends SIGINT and expects a checkpoint of
// the steps completed so far and exit status 130.
func TestInterruptWritesCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns training processes")
	}
	dir := filepath.Join(t.TempDir(), "int")
	cmd := child(tinyRun(dir, "--max-steps", "1000", "--checkpoint-every", "0")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForLines(t, dir, 2, cmd)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("after SIGINT: %v, want exit status 130", err)
	}
	f := weights(t, dir)
	steps, err := f.Ints("train/step")
	if err != nil {
		t.Fatalf("checkpoint after SIGINT: %v", err)
	}
	if steps[0] < 2 {
		t.Fatalf("checkpoint after SIGINT holds step %d, want >= 2", steps[0])
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"pretrain", "--epochs", "0"},
		{"pretrain", "--optimizer", "rmsprop"},
		{"pretrain", "--optimizer", "lars", "--lars-eta", "-1", "--max-steps", "0"},
		{"pretrain", "--method", "nope", "--max-steps", "0"},
		{"pretrain", "--data", "/does/not/exist", "--max-steps", "0"},
		{"eval", "knn"},
		{"no-such-command"},
	} {
		var so, se bytes.Buffer
		if code := run(args, &so, &se); code == 0 {
			t.Errorf("%v: exit 0, want an error", args)
		} else if se.Len() == 0 {
			t.Errorf("%v: exit %d with no message", args, code)
		}
	}
}

// evalResult is the JSON summary of `eval knn|linear --json`.
type evalResult struct{ Top1, Top5 float64 }

// evalJSON runs an eval command with --json and decodes its result.
func evalJSON(t *testing.T, args ...string) evalResult {
	t.Helper()
	var so, se bytes.Buffer
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("%v: exit %d\n%s", args[:2], code, se.String())
	}
	var res evalResult
	if err := json.Unmarshal(so.Bytes(), &res); err != nil {
		t.Fatalf("%v output %q: %v", args[:2], so.String(), err)
	}
	return res
}

// TestEvalFromCheckpoint writes a random-init checkpoint and evaluates
// it with `eval knn --json` and `eval linear --json`.
func TestEvalFromCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("extracts features of 10000 images")
	}
	dir := filepath.Join(t.TempDir(), "init")
	var so, se bytes.Buffer
	if code := run(tinyRun(dir, "--max-steps", "0"), &so, &se); code != 0 {
		t.Fatalf("pretrain --max-steps 0: exit %d\n%s%s", code, so.String(), se.String())
	}
	for _, kind := range []string{"knn", "linear"} {
		res := evalJSON(t, "eval", kind, "--checkpoint", dir, "--train", "mnist:test", "--test", "mnist:test", "--epochs", "2", "--json")
		// Even a random ResNet separates MNIST digits far above chance.
		if res.Top1 < 0.3 || res.Top5 < res.Top1 {
			t.Fatalf("eval %s of the random-init encoder: %+v, want top1 >= 0.3", kind, res)
		}
	}
}
