package train

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
)

// diskHint names the cause of a failed write in words, with what to do:
// a full disk, a read-only file system or a missing permission; "" for
// other errors.
func diskHint(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "the disk is full: free space"
	case errors.Is(err, syscall.EROFS):
		return "the file system is read-only: make it writable or choose another --out"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return "permission denied: make the run directory writable or choose another --out"
	}
	return ""
}

// lastCheckpoint says which checkpoint a stopped run leaves: the one on
// disk and its step, or that none has been written yet.
func (r *run) lastCheckpoint() string {
	if r.saved < 0 {
		return fmt.Sprintf("no checkpoint has been written yet (the first is due at step %d)", r.firstCheckpoint())
	}
	return fmt.Sprintf("the last good checkpoint is %s (step %d)", filepath.Join(r.cfg.Out, CheckpointFile), r.saved)
}

// firstCheckpoint is the step at which the run writes its first
// checkpoint.
func (r *run) firstCheckpoint() int {
	if e := r.cfg.CheckpointEvery; e > 0 && e < r.total {
		return (r.step/e + 1) * e
	}
	return r.total
}

// writeFailed is a failed checkpoint or metrics write, with its cause in
// words and what is left on disk: the previous checkpoint, untouched (the
// writes go through a temporary file and a rename), from which the run
// can continue.
func (r *run) writeFailed(err error) error {
	msg := err.Error()
	if h := diskHint(err); h != "" && !strings.Contains(msg, h) {
		msg += " (" + h + ")"
	}
	if r.saved < 0 {
		return fmt.Errorf("%w; training stopped; no checkpoint has been written yet", wrapped{msg, err})
	}
	return fmt.Errorf("%w; training stopped; the checkpoint of step %d in %s is intact: continue with `contrastive pretrain --resume %s` once the problem is fixed",
		wrapped{msg, err}, r.saved, filepath.Join(r.cfg.Out, CheckpointFile), r.cfg.Out)
}

// wrapped is an error with a reworded message that still unwraps to the
// original (errors.Is(err, syscall.ENOSPC) keeps working).
type wrapped struct {
	msg string
	err error
}

func (w wrapped) Error() string { return w.msg }
func (w wrapped) Unwrap() error { return w.err }
