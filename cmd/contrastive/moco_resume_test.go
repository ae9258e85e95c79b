package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
	base := t.TempDir()
	full, cut := filepath.Join(base, "full"), filepath.Join(base, "cut")
	var so, se bytes.Buffer
	if code := run(mocoRun(full), &so, &se); code != 0 {
		t.Fatalf("uninterrupted run: exit %d\n%s%s", code, so.String(), se.String())
	}
	cmd := child(mocoRun(cut)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForLines(t, cut, 5, cmd) // past the step-4 checkpoint
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if steps, err := weights(t, cut).Ints("train/step"); err != nil || steps[0] >= mocoSteps {
		t.Fatalf("checkpoint of the killed run: step %v (%v), want one before the end", steps, err)
	}
	if code := run([]string{"pretrain", "--resume", cut}, &so, &se); code != 0 {
		t.Fatalf("resumed run: exit %d\n%s%s", code, so.String(), se.String())
	}
	if !strings.Contains(so.String(), "resumed") {
		t.Fatalf("the second run did not resume:\n%s", so.String())
	}
	want, got := losses(t, full), losses(t, cut)
	if len(want) != mocoSteps || len(got) != len(want) {
		t.Fatalf("loss curves have %d and %d steps, want %d", len(want), len(got), mocoSteps)
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("step %d: resumed loss %v, uninterrupted %v", i+1, got[i], want[i])
		}
	}
	wf, gf := weights(t, full), weights(t, cut)
	for _, name := range []string{"extra/queue", "extra/queue_ptr", "extra/encoder_k.conv1.weight", "extra/encoder_k.projector.2.weight", "conv1.weight"} {
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
