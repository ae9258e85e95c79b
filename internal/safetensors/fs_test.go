package safetensors

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestWriteFileAtomicFailures: whichever step fails, with a full disk, a
// read-only file system or no permission, the error names the file and
// the cause, the old file is intact and no temporary file is left.
func TestWriteFileAtomicFailures(t *testing.T) {
	for _, op := range []string{"create", "write", "sync", "close", "rename"} {
		for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EROFS, syscall.EACCES} {
			dir := t.TempDir()
			p := filepath.Join(dir, "c.safetensors")
			if err := WriteFileAtomic(p, []byte("old contents")); err != nil {
				t.Fatal(err)
			}
			restore := SetFileSystem(&FaultFS{Op: op, Err: errno})
			err := WriteFileAtomic(p, bytes.Repeat([]byte("new"), 1000))
			restore()
			if !errors.Is(err, errno) || !strings.HasPrefix(err.Error(), "write "+p+": ") || !strings.Contains(err.Error(), errno.Error()) {
				t.Errorf("%s %v: error %v", op, errno, err)
			}
			if b, _ := os.ReadFile(p); string(b) != "old contents" {
				t.Errorf("%s %v: file now holds %q", op, errno, b)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("%s %v: %d files left in the folder, want only the old one", op, errno, len(ents))
			}
		}
	}
	// Skip lets the first writes succeed.
	dir := t.TempDir()
	p := filepath.Join(dir, "c")
	defer SetFileSystem(&FaultFS{Op: "rename", Err: syscall.ENOSPC, Skip: 1})()
	if err := WriteFileAtomic(p, []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("2")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("second write: %v", err)
	}
}
