package train

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestMetricsAppendFullDisk: an append that hits a full disk (/dev/full
// answers every write with ENOSPC) is an error naming the file and the
// cause.
func TestMetricsAppendFullDisk(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	m := &MetricsLog{path: "/dev/full", f: f, w: bufio.NewWriter(f)}
	if err := m.Write(Record{Step: 1, Loss: 2}); err != nil {
		t.Fatalf("buffered write: %v", err)
	}
	err = m.Close()
	if !errors.Is(err, syscall.ENOSPC) || !strings.HasPrefix(err.Error(), "metrics: /dev/full: ") || !strings.HasSuffix(err.Error(), "(the disk is full: free space)") {
		t.Fatalf("error %v", err)
	}
}

func TestDiskHint(t *testing.T) {
	for errno, want := range map[syscall.Errno]string{syscall.ENOSPC: "the disk is full", syscall.EDQUOT: "the disk is full",
		syscall.EROFS: "read-only", syscall.EACCES: "permission denied", syscall.EPERM: "permission denied", syscall.EIO: ""} {
		got := diskHint(&os.PathError{Op: "write", Path: "x", Err: errno})
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%v: hint %q, want %q", errno, got, want)
		}
	}
}
