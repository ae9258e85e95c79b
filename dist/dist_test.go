package dist_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/dist"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// The default build's group is one process; the MPI build is tested
// under mpirun by the equality tests of cmd/contrastive (-tags mpi).

func group(t *testing.T) *dist.Comm {
	t.Helper()
	c, err := dist.Init()
	if err != nil {
		t.Fatal(err)
	}
	if !dist.Enabled && (c.Rank() != 0 || c.Size() != 1) {
		t.Fatalf("default build: rank %d of %d, want 0 of 1", c.Rank(), c.Size())
	}
	return c
}

// TestOneProcess: with one process the all-gather is the identity (its
// gradient too), the reductions change nothing and GradSync.Backward is
// autograd.Backward.
func TestOneProcess(t *testing.T) {
	c := group(t)
	if c.Size() != 1 {
		t.Skip("runs in the one-process build")
	}
	x := autograd.Param(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 3, 2))
	w := tensor.FromSlice([]float32{0.5, -1, 2, 0, 1, 3}, 3, 2)
	g := c.AllGather(x)
	if !slices.Equal(g.Data.Data, x.Data.Data) {
		t.Fatalf("AllGather of one process: %v, want %v", g.Data.Data, x.Data.Data)
	}
	loss := autograd.Sum(autograd.Mul(g, autograd.Const(w)), nil, false)
	c.NewGradSync(0).Backward(loss)
	if !slices.Equal(x.Grad.Data, w.Data) {
		t.Fatalf("gradient through AllGather: %v, want %v", x.Grad.Data, w.Data)
	}
	s := []float64{1.5, -2}
	c.AllReduceSum(s)
	c.AllReduceMax(s)
	if s[0] != 1.5 || s[1] != -2 {
		t.Errorf("reductions over one process changed %v", s)
	}
	if got := c.AllGatherInts([]int{4, 7}); !slices.Equal(got, []int{4, 7}) {
		t.Errorf("AllGatherInts: %v", got)
	}
}

// Example shows the collectives a method uses, here in the one-process
// build (under mpirun, Size processes each contribute their rows).
func Example() {
	c, err := dist.Init()
	if err != nil {
		fmt.Println(err)
		return
	}
	rows := tensor.FromSlice([]float32{1, 2, 3, 4}, 2, 2)
	all := c.AllGatherTensor(rows) // [Size·2, 2]
	sums := []float64{float64(rows.Data[0])}
	c.AllReduceSum(sums)
	fmt.Println(c.Size(), all.Shape(), sums)
	// Output: 1 [2 2] [1]
}
