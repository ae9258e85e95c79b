//go:build mpi

package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/safetensors"
)

// The equality tests of data-parallel training: `mpirun -n 2` with global
// batch B must give the weights of one process with batch B, for every
// method, with synchronised batch norm. They build the MPI binary, run it
// under mpirun on this machine's loopback and compare the checkpoints.
// CI runs them with `go test -tags mpi ./cmd/contrastive -run MPI` (.ci/run).

// mpiTolerance bounds |w₂ − w₁| for every tensor of the model and the
// method's state (queues, banks, key encoders) after mpiSteps steps; the
// optimizer's momentum buffers (gradients) are logged, not asserted. The
// learning rate is small because these tiny networks on tiny batches are
// chaotic at larger ones: at lr 0.02, two single-process builds that
// differ only in float rounding (assembly kernels against -tags noasm)
// already differ by 0.9 in a momentum buffer after 3 SimCLR steps; at
// lr 0.005 by 1e-5, so the comparison measures the distribution, not the
// conditioning of the problem.
const (
	mpiTolerance = 1e-5
	mpiSteps     = 3
)

// mpirun returns the mpirun command line prefix for n processes, or skips.
func mpirun(t *testing.T, n int) []string {
	t.Helper()
	path, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun not found: install Open MPI (apt-get install openmpi-bin libopenmpi-dev) to run the data-parallel equality tests")
	}
	return []string{path, "--oversubscribe", "--bind-to", "none", "-n", fmt.Sprint(n)}
}

// mpiEnv lets mpirun run as root in a container and use plain shared
// memory (no CMA, often blocked in containers).
func mpiEnv() []string {
	return append(os.Environ(), "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
		"OMPI_MCA_btl_vader_single_copy_mechanism=none", "OMPI_MCA_rmaps_base_oversubscribe=1")
}

// noiseImages writes n random w×w RGB PNGs into a flat folder: data with
// no blank regions, whose batch norms are well conditioned.
func noiseImages(t *testing.T, n, w int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "noise")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, w, w))
		for y := range w {
			for x := range w {
				img.Set(x, y, color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255})
			}
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%02d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return dir
}

// buildMPI builds the command with -tags mpi.
func buildMPI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "contrastive")
	out, err := exec.Command("go", "build", "-tags", "mpi", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -tags mpi: %v\n%s", err, out)
	}
	return bin
}

func runMPI(t *testing.T, n int, bin string, args ...string) string {
	t.Helper()
	cmd := mpirun(t, n)
	cmd = append(cmd, bin)
	cmd = append(cmd, args...)
	c := exec.Command(cmd[0], cmd[1:]...)
	c.Env = mpiEnv()
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd, " "), err, out)
	}
	return string(out)
}

// maxDiff returns the largest |a − b| over the float tensors of two
// checkpoints (the optimizer's or all others) and where it is; a tensor
// in one and not the other fails.
func maxDiff(t *testing.T, pa, pb string, optim bool) (float64, string) {
	t.Helper()
	a, err := safetensors.Read(pa)
	if err != nil {
		t.Fatal(err)
	}
	b, err := safetensors.Read(pb)
	if err != nil {
		t.Fatal(err)
	}
	worst, where := 0.0, ""
	for _, name := range a.Names() {
		if a.Entries[name].DType != "F32" || strings.HasPrefix(name, "optim/") != optim {
			continue
		}
		ta, _ := a.Float32(name)
		tb, err := b.Float32(name)
		if err != nil {
			t.Fatalf("%s: %v", pb, err)
		}
		if len(ta.Data) != len(tb.Data) {
			t.Fatalf("%s: %d values in one run, %d in the other", name, len(ta.Data), len(tb.Data))
		}
		for i := range ta.Data {
			if d := math.Abs(float64(ta.Data[i] - tb.Data[i])); d > worst || math.IsNaN(d) {
				worst, where = d, fmt.Sprintf("%s[%d] (%v against %v)", name, i, ta.Data[i], tb.Data[i])
			}
		}
	}
	return worst, where
}

func TestMPIEqualsOneProcess(t *testing.T) {
	mpirun(t, 2)
	bin := buildMPI(t)
	data := noiseImages(t, 32, 16)
	for _, m := range []struct {
		name string
		args []string
	}{
		{"simclr", []string{"--proj-bn"}},
		{"moco", []string{"--moco-bn-splits", "2", "--moco-queue-size", "32"}},
		{"moco", []string{"--moco-bn-splits", "1", "--moco-queue-size", "32"}},
		{"instdisc", []string{"--instdisc-loss", "softmax"}},
		{"pirl", []string{"--pirl-loss", "softmax"}},
		{"swav", []string{"--swav-local-crops", "0"}},
	} {
		t.Run(m.name+strings.Join(m.args, ""), func(t *testing.T) {
			args := append([]string{"pretrain", "--method", m.name, "--data", data, "--width", "0.0625",
				"--batch-size", "8", "--max-steps", fmt.Sprint(mpiSteps), "--epochs", "1", "--warmup-epochs", "0",
				"--lr", "0.005", "--workers", "1", "--log-every", "1", "--checkpoint-every", "0", "--sync-bn"}, m.args...)
			one, two := filepath.Join(t.TempDir(), "one"), filepath.Join(t.TempDir(), "two")
			runMPI(t, 1, bin, append(args, "--out", one)...)
			runMPI(t, 2, bin, append(args, "--out", two)...)
			ca, cb := filepath.Join(one, "checkpoint.safetensors"), filepath.Join(two, "checkpoint.safetensors")
			d, where := maxDiff(t, ca, cb, false)
			do, whereO := maxDiff(t, ca, cb, true)
			t.Logf("%s: largest difference after %d steps %.3g at %s; optimizer state %.3g at %s", m.name, mpiSteps, d, where, do, whereO)
			if !(d <= mpiTolerance) {
				t.Errorf("2 processes differ from 1 by %.3g > %g at %s", d, mpiTolerance, where)
			}
		})
	}
}
