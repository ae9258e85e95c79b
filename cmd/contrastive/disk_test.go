package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/train"
)

// checkpointStep is the train/step of the run directory's checkpoint.
func checkpointStep(t *testing.T, dir string) int64 {
	t.Helper()
	v, _, err := weights(t, dir).Int64("train/step")
	if err != nil || len(v) != 1 {
		t.Fatalf("train/step: %v %v", v, err)
	}
	return v[0]
}

// noTempFiles fails when a temporary file is left in dir.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

// TestCheckpointWriteFails: the second checkpoint's write fails as on a
// full disk, a read-only file system or without permission. The run stops
// with a message naming the cause and the intact checkpoint, which holds
// step 3; no temporary file is left; the run resumes from it.
func TestCheckpointWriteFails(t *testing.T) {
	for _, c := range []struct {
		op   string
		err  syscall.Errno
		hint string
	}{
		{"write", syscall.ENOSPC, "the disk is full"},
		{"create", syscall.EROFS, "the file system is read-only"},
		{"rename", syscall.EACCES, "permission denied"},
	} {
		dir := filepath.Join(t.TempDir(), "run")
		restore := safetensors.SetFileSystem(&safetensors.FaultFS{Op: c.op, Err: c.err, Skip: 1, Match: train.CheckpointFile})
		var out, errb bytes.Buffer
		code := run(tinyRun(dir, "--max-steps", "9"), &out, &errb)
		restore()
		msg := errb.String()
		for _, want := range []string{"checkpoint of step 6 not written", filepath.Join(dir, train.CheckpointFile), c.err.Error(), c.hint,
			"the checkpoint of step 3 in " + filepath.Join(dir, train.CheckpointFile) + " is intact", "contrastive pretrain --resume " + dir} {
			if !strings.Contains(msg, want) {
				t.Errorf("%v: stderr %q does not say %q", c.err, msg, want)
			}
		}
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", c.err, code)
		}
		if s := checkpointStep(t, dir); s != 3 {
			t.Errorf("%v: checkpoint holds step %d, want 3", c.err, s)
		}
		noTempFiles(t, dir)
		if c.err == syscall.ENOSPC {
			out.Reset()
			if code := run(append(tinyRun(dir, "--max-steps", "6"), "--resume", dir), &out, &errb); code != 0 || checkpointStep(t, dir) != 6 {
				t.Errorf("resume after the failure: exit %d, %s", code, errb.String())
			}
		}
	}
}

// TestMetricsRewriteFails: resuming rewrites metrics.jsonl; when that
// write fails the old log is intact and the message names the cause.
func TestMetricsRewriteFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	var out, errb bytes.Buffer
	if code := run(tinyRun(dir, "--max-steps", "3"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	before, _ := os.ReadFile(filepath.Join(dir, train.MetricsFile))
	defer safetensors.SetFileSystem(&safetensors.FaultFS{Op: "write", Err: syscall.ENOSPC, Match: train.MetricsFile})()
	errb.Reset()
	code := run(append(tinyRun(dir, "--max-steps", "6"), "--resume", dir), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "metrics: write "+filepath.Join(dir, train.MetricsFile)) || !strings.Contains(errb.String(), "the disk is full") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if after, _ := os.ReadFile(filepath.Join(dir, train.MetricsFile)); !bytes.Equal(after, before) || len(before) == 0 {
		t.Errorf("metrics.jsonl changed from %d to %d bytes", len(before), len(after))
	}
	noTempFiles(t, dir)
}

// TestNaNBeforeFirstCheckpoint: a loss that turns NaN before any
// checkpoint says so, not that a checkpoint exists.
func TestNaNBeforeFirstCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	var out, errb bytes.Buffer
	code := run(tinyRun(dir, "--lr", "1e30"), &out, &errb)
	want := "loss is NaN: training stopped (lower the learning rate?); no checkpoint has been written yet (the first is due at step 3)"
	if code != 1 || !strings.Contains(errb.String(), want) || strings.Contains(errb.String(), "last good checkpoint") {
		t.Fatalf("exit %d, stderr %q, want %q", code, errb.String(), want)
	}
	if _, err := os.Stat(filepath.Join(dir, train.CheckpointFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("checkpoint: %v", err)
	}
}

// TestFullTmpfs runs against a real full disk: a 640 KiB tmpfs holds the
// first checkpoint (about 410 KiB) but not a second beside it. It needs
// root and a kernel that lets the test mount one, and skips otherwise.
func TestFullTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=640k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	dir := filepath.Join(mnt, "run")
	var out, errb bytes.Buffer
	code := run(tinyRun(dir, "--max-steps", "9"), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "checkpoint of step 6 not written") || !strings.Contains(errb.String(), "no space left on device (the disk is full") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if s := checkpointStep(t, dir); s != 3 {
		t.Errorf("checkpoint holds step %d, want 3", s)
	}
	noTempFiles(t, dir)
	// Read-only: remounted, the next checkpoint cannot be written either.
	if err := exec.Command("mount", "-o", "remount,ro", mnt).Run(); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	errb.Reset()
	code = run(append(tinyRun(dir, "--max-steps", "6"), "--resume", dir), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "read-only file system") {
		t.Fatalf("read-only: exit %d, stderr %q", code, errb.String())
	}
	if s := checkpointStep(t, dir); s != 3 {
		t.Errorf("read-only: checkpoint holds step %d, want 3", s)
	}
}
