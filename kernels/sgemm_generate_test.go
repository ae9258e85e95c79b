package kernels

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestGeneratedAsmUpToDate regenerates the micro-kernels with kernels/_asm
// and fails when the committed .s files differ: edit the generator, then
// run `go generate ./kernels/`.
func TestGeneratedAsmUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the generator")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		t.Skipf("no go tool at %s", goTool)
	}
	out := t.TempDir()
	cmd := exec.Command(goTool, "run", ".", "-out", out)
	cmd.Dir = "_asm"
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run kernels/_asm: %v\n%s", err, msg)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.s"))
	if len(files) == 0 {
		t.Fatal("the generator wrote no .s files")
	}
	for _, f := range files {
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Base(f))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what kernels/_asm generates (err=%v): run `go generate ./kernels/` and commit the result", filepath.Base(f), err)
		}
	}
}
