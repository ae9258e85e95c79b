package mpi

import (
	"fmt"
	"os"
	"slices"
	"testing"
)

// The tests run in every build: with the default build they check the
// one-process group, under `mpirun -n P go test -tags mpi` (see .ci/run)
// every process checks the collectives against values it can compute
// alone from its rank and the group size.

// TestMain finalizes MPI after the tests: a process that initialised MPI
// must finalize it before it exits.
func TestMain(m *testing.M) {
	code := m.Run()
	if c, err := Init(Funneled); err == nil {
		if err := c.Finalize(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

func group(t *testing.T) *Comm {
	t.Helper()
	c, err := Init(Funneled)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAllreduce(t *testing.T) {
	c := group(t)
	r, p := c.Rank(), c.Size()
	f := []float32{float32(r + 1), -float32(r), 0.5}
	if err := Allreduce(c, f, Sum); err != nil {
		t.Fatal(err)
	}
	// Σ_{r<p} (r+1) = p(p+1)/2, Σ −r = −p(p−1)/2.
	if want := []float32{float32(p * (p + 1) / 2), -float32(p * (p - 1) / 2), 0.5 * float32(p)}; !slices.Equal(f, want) {
		t.Errorf("float32 sum: got %v, want %v", f, want)
	}
	i := []int64{int64(r), int64(10 * r)}
	if err := Allreduce(c, i, Max); err != nil {
		t.Fatal(err)
	}
	if want := []int64{int64(p - 1), int64(10 * (p - 1))}; !slices.Equal(i, want) {
		t.Errorf("int64 max: got %v, want %v", i, want)
	}
	d := []float64{float64(r) + 0.25}
	if err := Allreduce(c, d, Min); err != nil {
		t.Fatal(err)
	}
	if d[0] != 0.25 {
		t.Errorf("float64 min: got %v, want 0.25", d[0])
	}
}

func TestAllgatherReduceScatter(t *testing.T) {
	c := group(t)
	r, p := c.Rank(), c.Size()
	send := []float32{float32(r), float32(100 + r)}
	recv := make([]float32, 2*p)
	if err := Allgather(c, send, recv); err != nil {
		t.Fatal(err)
	}
	for q := range p {
		if recv[2*q] != float32(q) || recv[2*q+1] != float32(100+q) {
			t.Fatalf("Allgather: block %d is %v, want [%d %d]", q, recv[2*q:2*q+2], q, 100+q)
		}
	}
	// Every process sends block q = [q·10 + r]; process q receives
	// Σ_r (q·10 + r) = p·q·10 + p(p−1)/2.
	big := make([]int64, p)
	for q := range big {
		big[q] = int64(q*10 + r)
	}
	one := make([]int64, 1)
	if err := ReduceScatter(c, big, one, Sum); err != nil {
		t.Fatal(err)
	}
	if want := int64(p*r*10 + p*(p-1)/2); one[0] != want {
		t.Errorf("ReduceScatter: got %d, want %d", one[0], want)
	}
	if err := Allgather(c, send, make([]float32, 2*p+1)); err == nil {
		t.Error("Allgather with a receive buffer of the wrong length: no error")
	}
}

func TestBcastAndIallreduce(t *testing.T) {
	c := group(t)
	r, p := c.Rank(), c.Size()
	root := p - 1
	b := []float64{float64(r), float64(-r)}
	if err := Bcast(c, b, root); err != nil {
		t.Fatal(err)
	}
	if b[0] != float64(root) || b[1] != float64(-root) {
		t.Errorf("Bcast from %d: got %v", root, b)
	}
	if err := Bcast(c, b, p); err == nil {
		t.Errorf("Bcast from root %d of %d processes: no error", p, p)
	}
	// Several requests in flight at once, completed out of order.
	bufs := make([][]float32, 3)
	reqs := make([]*Request, 3)
	for k := range bufs {
		bufs[k] = make([]float32, 1000*(k+1))
		for j := range bufs[k] {
			bufs[k][j] = float32(r + j + k)
		}
		var err error
		if reqs[k], err = Iallreduce(c, bufs[k], Sum); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []int{2, 0, 1} {
		if err := reqs[k].Wait(); err != nil {
			t.Fatal(err)
		}
		for j, x := range bufs[k] {
			if want := float32(p*(j+k) + p*(p-1)/2); x != want {
				t.Fatalf("Iallreduce %d: element %d is %v, want %v", k, j, x, want)
			}
		}
	}
}
