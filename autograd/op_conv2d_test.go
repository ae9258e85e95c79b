package autograd

import (
	"math"
	"sort"
	"strings"
	"testing"

	"contrastive/internal/safetensors"
	"contrastive/tensor"
)

const convFixtureScript = "/usr/bin/python3 tools/gen_conv_fixtures.py"

// loadConvFixture reads autograd/testdata/<name>, written by
// tools/gen_conv_fixtures.py (activations NHWC, weights OIHW).
func loadConvFixture(t *testing.T, name string) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read("testdata/" + name)
	if err != nil {
		t.Fatalf("%v (re-run `%s` from the repository root)", err, convFixtureScript)
	}
	if p := f.Metadata["producer"]; p != "tools/gen_conv_fixtures.py" {
		t.Fatalf("testdata/%s: producer %q, want tools/gen_conv_fixtures.py (re-run `%s`)", name, p, convFixtureScript)
	}
	return f
}

// fixtureCases returns the case prefixes ("conv2d/k3s1p1_c3_bias/") of f
// under group.
func fixtureCases(f *safetensors.File, group string) []string {
	seen := map[string]bool{}
	for _, n := range f.Names() {
		if rest, ok := strings.CutPrefix(n, group+"/"); ok {
			if i := strings.LastIndex(rest, "/"); i > 0 {
				seen[group+"/"+rest[:i+1]] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func fixtureTensor(t *testing.T, f *safetensors.File, name string) *tensor.Tensor {
	t.Helper()
	x, err := f.Float32(name)
	if err != nil {
		t.Fatalf("%v (re-run `%s`)", err, convFixtureScript)
	}
	return x
}

// expectClose fails unless got matches want within tol relative to the
// largest |want| (and at least tol absolute).
func expectClose(t *testing.T, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no result (want shape %v)", what, want.Shape())
		return
	}
	if !tensor.EqualShape(got.Shape(), want.Shape()) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
		return
	}
	scale := 1.0
	for _, v := range want.Data {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	if d := tensor.MaxAbsDiff(got, want); d > tol*scale || math.IsNaN(d) {
		t.Errorf("%s: max |diff| %.3g > %.3g (tolerance %.0e × %.3g)", what, d, tol*scale, tol, scale)
	}
}

func TestConv2dMatchesTorch(t *testing.T) {
	f := loadConvFixture(t, "conv_conv2d.safetensors")
	cases := fixtureCases(f, "conv2d")
	if len(cases) < 8 {
		t.Fatalf("conv_conv2d.safetensors holds %d cases, want 8 (re-run `%s`)", len(cases), convFixtureScript)
	}
	for _, pre := range cases {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(pre, "conv2d/"), "/"), func(t *testing.T) {
			sp, err := f.Ints(pre + "stride_pad")
			if err != nil {
				t.Fatal(err)
			}
			x := Param(fixtureTensor(t, f, pre+"x"))
			w := Param(fixtureTensor(t, f, pre+"w"))
			var b *Value
			if _, ok := f.Entries[pre+"b"]; ok {
				b = Param(fixtureTensor(t, f, pre+"b"))
			}
			y := Conv2d(x, w, b, sp[0], sp[1])
			expectClose(t, "y", y.Data, fixtureTensor(t, f, pre+"y"), 1e-4)
			BackwardWith(y, fixtureTensor(t, f, pre+"dy"))
			expectClose(t, "dx", x.Grad, fixtureTensor(t, f, pre+"dx"), 1e-4)
			expectClose(t, "dw", w.Grad, fixtureTensor(t, f, pre+"dw"), 1e-4)
			if b != nil {
				expectClose(t, "db", b.Grad, fixtureTensor(t, f, pre+"db"), 1e-4)
			}
			Free(y)
		})
	}
}

// TestConv2dAccumulates checks that a second backward adds to the
// gradients instead of overwriting them (a residual connection needs it).
func TestConv2dAccumulates(t *testing.T) {
	f := loadConvFixture(t, "conv_conv2d.safetensors")
	pre := "conv2d/k3s2p1_c8_bias/"
	x := Param(fixtureTensor(t, f, pre+"x"))
	w := Param(fixtureTensor(t, f, pre+"w"))
	b := Param(fixtureTensor(t, f, pre+"b"))
	dy := fixtureTensor(t, f, pre+"dy")
	for range 2 {
		y := Conv2d(x, w, b, 2, 1)
		BackwardWith(y, dy)
		Free(y)
	}
	for _, c := range []struct {
		name string
		got  *tensor.Tensor
	}{{"dx", x.Grad}, {"dw", w.Grad}, {"db", b.Grad}} {
		want := fixtureTensor(t, f, pre+c.name)
		for i := range want.Data {
			want.Data[i] *= 2
		}
		expectClose(t, c.name+" after two backward passes", c.got, want, 1e-4)
	}
}

func TestConv2dNoGradRecordsNothing(t *testing.T) {
	x := Param(tensor.Full(1, 1, 4, 4, 2))
	w := Param(tensor.Full(0.5, 3, 2, 3, 3))
	var y *Value
	NoGrad(func() { y = Conv2d(x, w, nil, 1, 1) })
	if y.RequiresGrad() || y.Parents() != nil {
		t.Fatalf("Conv2d inside NoGrad: RequiresGrad %v, parents %d; want false, 0", y.RequiresGrad(), len(y.Parents()))
	}
	// centre output sees all 9 taps of 2 channels of ones: 18 · 0.5
	if got := y.Data.At(0, 1, 1, 0); got != 9 {
		t.Errorf("y[0,1,1,0] = %v, want 9", got)
	}
	if got := y.Data.At(0, 0, 0, 2); got != 4 { // corner: 2×2 taps × 2 channels × 0.5
		t.Errorf("y[0,0,0,2] = %v, want 4", got)
	}
}

func TestConv2dPanicsOnBadShapes(t *testing.T) {
	bad := []func(){
		func() { Conv2d(Const(tensor.New(1, 4, 4, 3)), Const(tensor.New(2, 2, 3, 3)), nil, 1, 1) }, // C mismatch
		func() { Conv2d(Const(tensor.New(4, 4, 3)), Const(tensor.New(2, 3, 3, 3)), nil, 1, 1) },    // rank 3
		func() { Conv2d(Const(tensor.New(1, 2, 2, 3)), Const(tensor.New(2, 3, 5, 5)), nil, 1, 0) }, // kernel too big
		func() { Conv2d(Const(tensor.New(1, 4, 4, 3)), Const(tensor.New(2, 3, 3, 3)), nil, 0, 1) }, // stride 0
		func() {
			Conv2d(Const(tensor.New(1, 4, 4, 3)), Const(tensor.New(2, 3, 3, 3)), Const(tensor.New(3)), 1, 1)
		}, // bias
	}
	for i, fn := range bad {
		func() {
			defer func() {
				r := recover()
				if r == nil {
					t.Errorf("case %d: no panic", i)
				} else if s, _ := r.(string); !strings.Contains(s, "autograd.Conv2d") {
					t.Errorf("case %d: panic %q does not name autograd.Conv2d", i, r)
				}
			}()
			fn()
		}()
	}
}
