package autograd

import (
	"math"
	"strings"
	"testing"

	"contrastive/tensor"
)

func TestPoolMatchesTorch(t *testing.T) {
	f := loadConvFixture(t, "conv_pool.safetensors")
	ops := map[string]func(x *Value) *Value{
		"max_k3s2p1": func(x *Value) *Value { return MaxPool2d(x, 3, 2, 1) },
		"max_k2s2p0": func(x *Value) *Value { return MaxPool2d(x, 2, 2, 0) },
		"avg_k3s2p1": func(x *Value) *Value { return AvgPool2d(x, 3, 2, 1) },
		"avg_k2s1p1": func(x *Value) *Value { return AvgPool2d(x, 2, 1, 1) },
		"gap":        GlobalAvgPool,
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
			x := Param(fixtureTensor(t, f, pre+"x"))
			y := op(x)
			expectClose(t, "y", y.Data, fixtureTensor(t, f, pre+"y"), 1e-5)
			BackwardWith(y, fixtureTensor(t, f, pre+"dy"))
			expectClose(t, "dx", x.Grad, fixtureTensor(t, f, pre+"dx"), 1e-5)
			Free(y)
		})
	}
}

func TestMaxPoolPaddingIsMinusInf(t *testing.T) {
	// all-negative input: zero padding would win, −inf padding never does
	x := tensor.Full(-3, 1, 2, 2, 1)
	x.Data[3] = -2
	y := MaxPool2d(Const(x), 3, 2, 1)
	if got := y.Data.Data[0]; got != -2 {
		t.Errorf("max over a padded window = %v, want -2", got)
	}
	x.Data[0] = float32(math.NaN())
	y = MaxPool2d(Const(x), 3, 2, 1)
	if got := y.Data.Data[0]; !math.IsNaN(float64(got)) {
		t.Errorf("max over a window with NaN = %v, want NaN (PyTorch propagates it)", got)
	}
}

func TestPoolPanics(t *testing.T) {
	for i, c := range []struct {
		fn   func()
		name string
	}{
		{func() { MaxPool2d(Const(tensor.New(1, 4, 4)), 2, 2, 0) }, "MaxPool2d"},
		{func() { MaxPool2d(Const(tensor.New(1, 4, 4, 1)), 3, 2, 2) }, "MaxPool2d"}, // pad > k/2
		{func() { AvgPool2d(Const(tensor.New(1, 2, 2, 1)), 5, 1, 1) }, "AvgPool2d"},
		{func() { GlobalAvgPool(Const(tensor.New(2, 3))) }, "GlobalAvgPool"},
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
