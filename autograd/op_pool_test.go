package autograd_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

func TestPoolMatchesTorch(t *testing.T) {
	f := loadConvFixture(t, "conv_pool.safetensors")
	ops := map[string]func(x *autograd.Value) *autograd.Value{
		"max_k3s2p1": func(x *autograd.Value) *autograd.Value { return autograd.MaxPool2d(x, 3, 2, 1) },
		"max_k2s2p0": func(x *autograd.Value) *autograd.Value { return autograd.MaxPool2d(x, 2, 2, 0) },
		"avg_k3s2p1": func(x *autograd.Value) *autograd.Value { return autograd.AvgPool2d(x, 3, 2, 1) },
		"avg_k2s1p1": func(x *autograd.Value) *autograd.Value { return autograd.AvgPool2d(x, 2, 1, 1) },
		"gap":        autograd.GlobalAvgPool,
	}
	cases := fixtureCases(f, "pool")
	if len(cases) != len(ops) {
		t.Fatalf("conv_pool.safetensors holds %d cases, want %d (re-run `%s`)", len(cases), len(ops), convFixtureScript)
	}
	for _, pre := range cases {
		name := strings.TrimSuffix(strings.TrimPrefix(pre, "pool/"), "/")
		t.Run(name, func(t *testing.T) {
			op, ok := ops[name]
			if !ok {
				t.Fatalf("fixture case %q has no op in this test", name)
			}
			x := autograd.Param(fixtureTensor(t, f, pre+"x"))
			y := op(x)
			expectClose(t, "y", y.Data, fixtureTensor(t, f, pre+"y"), 1e-5)
			autograd.BackwardWith(y, fixtureTensor(t, f, pre+"dy"))
			expectClose(t, "dx", x.Grad, fixtureTensor(t, f, pre+"dx"), 1e-5)
			autograd.Free(y)
		})
	}
}

func TestMaxPoolPaddingIsMinusInf(t *testing.T) {
	// all-negative input: zero padding would win, −inf padding never does
	x := tensor.Full(-3, 1, 2, 2, 1)
	x.Data[3] = -2
	y := autograd.MaxPool2d(autograd.Const(x), 3, 2, 1)
	if got := y.Data.Data[0]; got != -2 {
		t.Errorf("max over a padded window = %v, want -2", got)
	}
	x.Data[0] = float32(math.NaN())
	y = autograd.MaxPool2d(autograd.Const(x), 3, 2, 1)
	if got := y.Data.Data[0]; !math.IsNaN(float64(got)) {
		t.Errorf("max over a window with NaN = %v, want NaN (PyTorch propagates it)", got)
	}
}

func TestPoolPanics(t *testing.T) {
	for i, c := range []struct {
		fn   func()
		name string
	}{
		{func() { autograd.MaxPool2d(autograd.Const(tensor.New(1, 4, 4)), 2, 2, 0) }, "MaxPool2d"},
		{func() { autograd.MaxPool2d(autograd.Const(tensor.New(1, 4, 4, 1)), 3, 2, 2) }, "MaxPool2d"}, // pad > k/2
		{func() { autograd.AvgPool2d(autograd.Const(tensor.New(1, 2, 2, 1)), 5, 1, 1) }, "AvgPool2d"},
		{func() { autograd.GlobalAvgPool(autograd.Const(tensor.New(2, 3))) }, "GlobalAvgPool"},
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, "autograd."+c.name) {
					t.Errorf("case %d: panic %v, want one naming autograd.%s", i, r, c.name)
				}
			}()
			c.fn()
		}()
	}
}

// distinctTensor returns a random permutation of 0.05·i: values at least
// 0.05 apart, so a finite-difference step of 0.01 never changes which
// element of a max-pool window is largest.
func distinctTensor(seed uint64, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	perm := rand.New(rand.NewPCG(seed, 3)).Perm(len(t.Data))
	for i, p := range perm {
		t.Data[i] = 0.05*float32(p) - 0.025*float32(len(perm))
	}
	return t
}

func init() {
	pool := func(name string, f func(x *autograd.Value) *autograd.Value, x *tensor.Tensor) gradCase {
		op := map[string]autograd.Op{"MaxPool2d": autograd.OpMaxPool2d, "AvgPool2d": autograd.OpAvgPool2d, "GlobalAvgPool": autograd.OpGlobalAvgPool}[strings.Split(name, "/")[0]]
		return gradCase{name: name, op: op, in: []*tensor.Tensor{x}, f: func(v []*autograd.Value) *autograd.Value { return f(v[0]) }}
	}
	gradCases = append(gradCases,
		pool("MaxPool2d/k3s2p1", func(x *autograd.Value) *autograd.Value { return autograd.MaxPool2d(x, 3, 2, 1) }, distinctTensor(21, 2, 5, 6, 3)),
		pool("MaxPool2d/k2s2p0", func(x *autograd.Value) *autograd.Value { return autograd.MaxPool2d(x, 2, 2, 0) }, distinctTensor(22, 1, 4, 4, 2)),
		pool("AvgPool2d/k3s2p1", func(x *autograd.Value) *autograd.Value { return autograd.AvgPool2d(x, 3, 2, 1) }, randTensor(23, -1, 1, 2, 5, 6, 3)),
		pool("AvgPool2d/k2s1p1", func(x *autograd.Value) *autograd.Value { return autograd.AvgPool2d(x, 2, 1, 1) }, randTensor(24, -1, 1, 1, 3, 4, 2)),
		pool("GlobalAvgPool", autograd.GlobalAvgPool, randTensor(25, -1, 1, 2, 3, 4, 5)),
	)
}

func ExampleMaxPool2d() {
	// A 4×4 single-channel image, 2×2 windows with stride 2.
	x := autograd.Param(tensor.FromSlice([]float32{
		1, 5, 2, 0,
		3, 4, 8, 1,
		0, 0, 7, 6,
		9, 1, 2, 3,
	}, 1, 4, 4, 1))
	y := autograd.MaxPool2d(x, 2, 2, 0)
	fmt.Println(y.Data.Data)
	autograd.Backward(autograd.Sum(y, nil, false))
	fmt.Println(x.Grad.Data) // 1 where each window's maximum was
	// Output:
	// [5 8 9 7]
	// [0 1 0 0 0 0 1 0 0 0 1 0 1 0 0 0]
}
