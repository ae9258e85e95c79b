package autograd_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// TestGradAccumulates checks that a value used more than once receives the
// sum of every contribution: y = x·x + x gives dy/dx = 2x + 1, and a
// residual block h + relu(h) sends both paths' gradients into h.
func TestGradAccumulates(t *testing.T) {
	x := autograd.Param(tensor.FromSlice([]float32{-2, -0.5, 0.25, 3}, 4))
	y := autograd.Sum(autograd.Add(autograd.Mul(x, x), x), nil, false)
	autograd.Backward(y)
	for i, v := range x.Data.Data {
		if got, want := x.Grad.Data[i], 2*v+1; got != want {
			t.Errorf("x·x + x: grad[%d] = %v, want %v", i, got, want)
		}
	}

	// Residual: out = Σ (h + relu(h)), h = 2x: d/dx = 2·(1 + [h > 0]).
	x.ZeroGrad()
	h := autograd.Scale(x, 2)
	out := autograd.Sum(autograd.Add(h, autograd.ReLU(h)), nil, false)
	autograd.Backward(out)
	for i, v := range x.Data.Data {
		want := float32(2)
		if v > 0 {
			want = 4
		}
		if got := x.Grad.Data[i]; got != want {
			t.Errorf("residual: grad[%d] = %v, want %v", i, got, want)
		}
	}

	// A second Backward through a fresh graph adds to the leaf's gradient.
	autograd.Backward(autograd.Sum(x, nil, false))
	for i, v := range x.Data.Data {
		want := float32(3)
		if v > 0 {
			want = 5
		}
		if got := x.Grad.Data[i]; got != want {
			t.Errorf("second backward: grad[%d] = %v, want %v", i, got, want)
		}
	}
}

func TestNoGradRecordsNothing(t *testing.T) {
	w := autograd.Param(randT(1, 3, 4))
	x := autograd.Const(randT(2, 2, 4))
	var y *autograd.Value
	autograd.NoGrad(func() {
		y = autograd.Sum(autograd.ReLU(autograd.Linear(x, w, nil)), nil, false)
	})
	if y.RequiresGrad() || y.Parents() != nil {
		t.Fatalf("NoGrad output requires grad (%v) or has parents (%d)", y.RequiresGrad(), len(y.Parents()))
	}
	autograd.Backward(y)
	if w.Grad != nil {
		t.Fatal("Backward through a NoGrad value reached the parameter")
	}
	if !autograd.GradEnabled() {
		t.Fatal("grad mode still off after NoGrad")
	}
	// Constants alone record nothing either, even with grad mode on.
	z := autograd.Mul(x, x)
	if z.RequiresGrad() || z.Parents() != nil {
		t.Fatal("an op over constants recorded a graph")
	}
}

func TestDetachStopsGradient(t *testing.T) {
	x := autograd.Param(randT(3, 2, 3))
	w := autograd.Param(randT(4, 2, 3))
	d := autograd.Detach(x)
	if d.RequiresGrad() || &d.Data.Data[0] != &x.Data.Data[0] {
		t.Fatal("Detach must return a view that requires no gradient")
	}
	autograd.Backward(autograd.Sum(autograd.Mul(d, w), nil, false))
	if x.Grad != nil {
		t.Fatalf("gradient reached a detached input: %v", x.Grad)
	}
	if tensor.MaxAbsDiff(w.Grad, x.Data) != 0 {
		t.Fatal("dw != x")
	}
}

func TestViewsShareMemory(t *testing.T) {
	x := autograd.Param(randT(5, 4, 3))
	r := autograd.Reshape(x, 2, 6)
	s := autograd.SliceAxis(x, 0, 1, 3)
	if &r.Data.Data[0] != &x.Data.Data[0] || &s.Data.Data[0] != &x.Data.Data[3] {
		t.Fatal("Reshape / SliceAxis(axis 0) should be views")
	}
	c := autograd.SliceAxis(x, 1, 1, 2)
	if got := c.Shape(); len(got) != 2 || got[0] != 4 || got[1] != 1 || c.Data.Data[2] != x.Data.Data[7] {
		t.Fatalf("SliceAxis(axis 1) = %v", c.Data)
	}
	loss := autograd.Add(autograd.Sum(r, nil, false), autograd.Sum(s, nil, false))
	autograd.Backward(loss)
	autograd.Free(loss)
	// x itself must survive Free: views do not own memory.
	if x.Data == nil || len(x.Data.Data) != 12 {
		t.Fatal("Free released a leaf's data through a view")
	}
	for i, g := range x.Grad.Data {
		want := float32(1)
		if i >= 3 && i < 9 {
			want = 2
		}
		if g != want {
			t.Errorf("grad[%d] = %v, want %v", i, g, want)
		}
	}
}

// TestOpsPanic checks that misuse panics with a message naming the op
// and the shapes.
func TestOpsPanic(t *testing.T) {
	c := func(shape ...int) *autograd.Value { return autograd.Const(tensor.New(shape...)) }
	cases := []struct {
		name, want string
		f          func()
	}{
		{"add", "autograd.Add: shapes [2 3] and [4] do not broadcast", func() { autograd.Add(c(2, 3), c(4)) }},
		{"matmul", "autograd.MatMul: inner sizes differ", func() { autograd.MatMul(c(2, 3), c(4, 5), false, false) }},
		{"matmul-rank", "autograd.MatMul: want 2-D", func() { autograd.MatMul(c(2, 3, 1), c(3, 5), false, false) }},
		{"bmm", "autograd.BatchedMatMul: want 3-D operands with equal batch", func() { autograd.BatchedMatMul(c(2, 2, 3), c(3, 3, 2), false, false) }},
		{"linear", "autograd.Linear: x [2 3], w [4 5]", func() { autograd.Linear(c(2, 3), c(4, 5), nil) }},
		{"sum-axis", "autograd.Sum: axis 2 out of range for shape [2 3]", func() { autograd.Sum(c(2, 3), []int{2}, false) }},
		{"sum-repeat", "autograd.Mean: axis -2 repeated", func() { autograd.Mean(c(2, 3), []int{0, -2}, false) }},
		{"ce-target", "autograd.CrossEntropy: target 1 = 3 out of range for logits [2 3]", func() { autograd.CrossEntropy(c(2, 3), []int{0, 3}) }},
		{"ce-count", "autograd.CrossEntropy: logits [2 3] with 3 targets", func() { autograd.CrossEntropy(c(2, 3), []int{0, 1, 2}) }},
		{"concat", "autograd.Concat: input 1 has shape [2 4]", func() { autograd.Concat(0, c(2, 3), c(2, 4)) }},
		{"slice", "autograd.SliceAxis: [1:4] out of range along axis 1 of shape [2 3]", func() { autograd.SliceAxis(c(2, 3), 1, 1, 4) }},
		{"split", "autograd.Split: sizes [1 1] do not add up to 3", func() { autograd.Split(c(2, 3), 1, 1, 1) }},
		{"transpose", "autograd.Transpose: want a 2-D operand, got [2 3 4]", func() { autograd.Transpose(c(2, 3, 4)) }},
		{"permute", "autograd.Permute: [0 0] is not a permutation", func() { autograd.Permute(c(2, 3), 0, 0) }},
		{"index", "autograd.IndexSelect: index 1 = 5 out of range [0, 4)", func() { autograd.IndexSelect(c(4, 2), []int{0, 5}) }},
		{"index-neg", "autograd.IndexSelect: index 0 = -1 out of range", func() { autograd.IndexSelect(c(4, 2), []int{-1}) }},
		{"scatter", "autograd.ScatterRows: index 0 = 3 out of range [0, 3)", func() { autograd.ScatterRows(3, []int{3}, c(1, 2)) }},
		{"scatter-count", "autograd.ScatterRows: src [2 2] with 1 indices", func() { autograd.ScatterRows(3, []int{0}, c(2, 2)) }},
		{"dropout", "autograd.Dropout: p = 1.5 outside [0, 1]", func() { autograd.Dropout(c(2), 1.5, rand.New(rand.NewPCG(1, 1)), true) }},
		{"softmax", "autograd.Softmax: want at least one axis", func() { autograd.Softmax(autograd.Const(tensor.Scalar(1))) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

func TestDropout(t *testing.T) {
	x := autograd.Param(tensor.Full(1, 1000))
	if y := autograd.Dropout(x, 0.5, nil, false); y != x {
		t.Fatal("Dropout in eval mode must return its input")
	}
	y := autograd.Dropout(x, 0.25, rand.New(rand.NewPCG(7, 7)), true)
	kept := 0
	for _, v := range y.Data.Data {
		switch v {
		case 0:
		case 1 / 0.75:
			kept++
		default:
			t.Fatalf("dropout output %v, want 0 or 1/(1-p)", v)
		}
	}
	if kept < 700 || kept > 800 { // Binomial(1000, 0.75): mean 750, sd 13.7
		t.Fatalf("kept %d of 1000 at p = 0.25", kept)
	}
	autograd.Backward(autograd.Sum(y, nil, false))
	for i, g := range x.Grad.Data {
		if g != y.Data.Data[i] { // d/dx (x·mask) = mask and x = 1
			t.Fatalf("grad[%d] = %v, want mask %v", i, g, y.Data.Data[i])
		}
	}
	z := autograd.Dropout(x, 1, rand.New(rand.NewPCG(7, 7)), true)
	if autograd.Sum(z, nil, false).Item() != 0 {
		t.Fatal("p = 1 must drop everything")
	}
}

// mlp is a two-layer perceptron used by the memory tests and examples.
type mlp struct{ w1, b1, w2, b2 *autograd.Value }

func newMLP(in, hidden, out int) *mlp {
	s1, s2 := float32(1/math.Sqrt(float64(in))), float32(1/math.Sqrt(float64(hidden)))
	scaled := func(t *tensor.Tensor, s float32) *tensor.Tensor {
		for i := range t.Data {
			t.Data[i] *= s
		}
		return t
	}
	return &mlp{
		w1: autograd.Param(scaled(randT(101, hidden, in), s1)), b1: autograd.Param(tensor.New(hidden)),
		w2: autograd.Param(scaled(randT(102, out, hidden), s2)), b2: autograd.Param(tensor.New(out)),
	}
}

func (m *mlp) params() []*autograd.Value { return []*autograd.Value{m.w1, m.b1, m.w2, m.b2} }

// step runs one SGD step of cross-entropy training and returns the loss.
func (m *mlp) step(x *autograd.Value, y []int, lr float32) float32 {
	h := autograd.ReLU(autograd.Linear(x, m.w1, m.b1))
	loss := autograd.CrossEntropy(autograd.Linear(h, m.w2, m.b2), y)
	autograd.Backward(loss)
	l := loss.Item()
	autograd.Free(loss)
	for _, p := range m.params() {
		for i, g := range p.Grad.Data {
			p.Data.Data[i] -= lr * g
		}
		p.ZeroGrad()
	}
	return l
}

// TestFreeReturnsBuffers trains a small MLP: the first steps fill the
// tensor pool (the per-core pools of every worker, so it can take two), so
// the third must allocate far fewer bytes.
func TestFreeReturnsBuffers(t *testing.T) {
	tensor.ResetPool()
	m := newMLP(64, 128, 10)
	x := autograd.Const(randT(103, 32, 64))
	y := make([]int, 32)
	for i := range y {
		y[i] = i % 10
	}
	var before, after runtime.MemStats
	measure := func() (bytes, mallocs uint64, loss float32) {
		runtime.ReadMemStats(&before)
		loss = m.step(x, y, 0.1)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs, loss
	}
	b1, n1, l1 := measure()
	measure()
	// Later steps: a garbage collection empties sync.Pool (the tensor
	// pool's backing), so one step now and then refills it; the median
	// step is the steady state.
	var warm []uint64
	var nWarm uint64
	var l3 float32
	for i := 0; i < 21; i++ {
		var b, n uint64
		b, n, l3 = measure()
		warm = append(warm, b)
		nWarm = n
	}
	slices.Sort(warm)
	med := warm[len(warm)/2]
	t.Logf("MLP 32×64→128→10 step: first %d B / %d allocs; steps 3–23: median %d B (min %d, max %d), last %d allocs", b1, n1, med, warm[0], warm[len(warm)-1], nWarm)
	if !(l3 < l1) {
		t.Errorf("loss did not go down: %v -> %v", l1, l3)
	}
	if raceEnabled {
		t.Skip("allocation bounds do not hold under the race detector (sync.Pool drops items)")
	}
	if med > b1/10 {
		t.Errorf("after warm-up the median step allocates %d bytes, want < 1/10 of the first step's %d", med, b1)
	}
	if med > 16<<10 {
		t.Errorf("a warm step allocates %d bytes (median), want < 16 KiB (only graph nodes, no tensor buffers)", med)
	}
}
