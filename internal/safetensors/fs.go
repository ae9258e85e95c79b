package safetensors

import (
	"io"
	"os"
	"strings"
	"sync"
)

// FileSystem is what WriteFileAtomic asks of the operating system. Tests
// replace it (SetFileSystem) to make writes fail as a full disk, a
// read-only file system or a missing permission would.
type FileSystem interface {
	CreateTemp(dir, pattern string) (TempFile, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
}

// TempFile is the temporary file WriteFileAtomic writes (an *os.File).
type TempFile interface {
	io.Writer
	Chmod(mode os.FileMode) error
	Sync() error
	Close() error
	Name() string
}

type osFS struct{}

func (osFS) CreateTemp(dir, pattern string) (TempFile, error) { return os.CreateTemp(dir, pattern) }
func (osFS) Rename(oldpath, newpath string) error             { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                         { return os.Remove(name) }

var fsys FileSystem = osFS{}

// SetFileSystem makes WriteFileAtomic (and so every checkpoint, config and
// metrics rewrite) use fs, and returns the function that restores the
// operating system's. For tests; not safe while writes are under way.
func SetFileSystem(fs FileSystem) (restore func()) {
	old := fsys
	fsys = fs
	return func() { fsys = old }
}

// FaultFS is a FileSystem for tests: the operating system's, except that
// after Skip successful calls of Op ("create", "write", "sync", "close" or
// "rename") every further call of Op fails with Err, as on a disk that
// filled up (syscall.ENOSPC), became read-only (syscall.EROFS) or denies
// access (syscall.EACCES). A failing write first writes half its bytes, as
// a write that runs out of space does. With Match set, only the files whose
// name contains it are counted and failed.
type FaultFS struct {
	Op    string
	Err   error
	Skip  int
	Match string

	mu    sync.Mutex
	calls int
}

func (f *FaultFS) fails(op, name string) bool {
	if op != f.Op || !strings.Contains(name, f.Match) {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.calls > f.Skip
}

func (f *FaultFS) CreateTemp(dir, pattern string) (TempFile, error) {
	if f.fails("create", pattern) {
		return nil, &os.PathError{Op: "open", Path: dir + "/" + pattern, Err: f.Err}
	}
	t, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: t, fs: f}, nil
}

func (f *FaultFS) Rename(oldpath, newpath string) error {
	if f.fails("rename", newpath) {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: f.Err}
	}
	return os.Rename(oldpath, newpath)
}

func (f *FaultFS) Remove(name string) error { return os.Remove(name) }

type faultFile struct {
	*os.File
	fs *FaultFS
}

func (t *faultFile) Write(b []byte) (int, error) {
	if t.fs.fails("write", t.Name()) {
		n, _ := t.File.Write(b[:len(b)/2])
		return n, &os.PathError{Op: "write", Path: t.Name(), Err: t.fs.Err}
	}
	return t.File.Write(b)
}

func (t *faultFile) Sync() error {
	if t.fs.fails("sync", t.Name()) {
		return &os.PathError{Op: "sync", Path: t.Name(), Err: t.fs.Err}
	}
	return t.File.Sync()
}

func (t *faultFile) Close() error {
	err := t.File.Close()
	if t.fs.fails("close", t.Name()) {
		return &os.PathError{Op: "close", Path: t.Name(), Err: t.fs.Err}
	}
	return err
}
