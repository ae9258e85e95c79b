package autograd_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/tensor"
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
			x := autograd.Param(fixtureTensor(t, f, pre+"x"))
			w := autograd.Param(fixtureTensor(t, f, pre+"w"))
			var b *autograd.Value
			if _, ok := f.Entries[pre+"b"]; ok {
				b = autograd.Param(fixtureTensor(t, f, pre+"b"))
			}
			y := autograd.Conv2d(x, w, b, sp[0], sp[1])
			expectClose(t, "y", y.Data, fixtureTensor(t, f, pre+"y"), 1e-4)
			autograd.BackwardWith(y, fixtureTensor(t, f, pre+"dy"))
			expectClose(t, "dx", x.Grad, fixtureTensor(t, f, pre+"dx"), 1e-4)
			expectClose(t, "dw", w.Grad, fixtureTensor(t, f, pre+"dw"), 1e-4)
			if b != nil {
				expectClose(t, "db", b.Grad, fixtureTensor(t, f, pre+"db"), 1e-4)
			}
			autograd.Free(y)
		})
	}
}

// TestConv2dAccumulates checks that a second backward adds to the
// gradients instead of overwriting them (a residual connection needs it).
func TestConv2dAccumulates(t *testing.T) {
	f := loadConvFixture(t, "conv_conv2d.safetensors")
	pre := "conv2d/k3s2p1_c8_bias/"
	x := autograd.Param(fixtureTensor(t, f, pre+"x"))
	w := autograd.Param(fixtureTensor(t, f, pre+"w"))
	b := autograd.Param(fixtureTensor(t, f, pre+"b"))
	dy := fixtureTensor(t, f, pre+"dy")
	for range 2 {
		y := autograd.Conv2d(x, w, b, 2, 1)
		autograd.BackwardWith(y, dy)
		autograd.Free(y)
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
	x := autograd.Param(tensor.Full(1, 1, 4, 4, 2))
	w := autograd.Param(tensor.Full(0.5, 3, 2, 3, 3))
	var y *autograd.Value
	autograd.NoGrad(func() { y = autograd.Conv2d(x, w, nil, 1, 1) })
	if y.RequiresGrad() || y.Parents() != nil {
		t.Fatalf("autograd.Conv2d inside NoGrad: RequiresGrad %v, parents %d; want false, 0", y.RequiresGrad(), len(y.Parents()))
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
		func() {
			autograd.Conv2d(autograd.Const(tensor.New(1, 4, 4, 3)), autograd.Const(tensor.New(2, 2, 3, 3)), nil, 1, 1)
		}, // C mismatch
		func() {
			autograd.Conv2d(autograd.Const(tensor.New(4, 4, 3)), autograd.Const(tensor.New(2, 3, 3, 3)), nil, 1, 1)
		}, // rank 3
		func() {
			autograd.Conv2d(autograd.Const(tensor.New(1, 2, 2, 3)), autograd.Const(tensor.New(2, 3, 5, 5)), nil, 1, 0)
		}, // kernel too big
		func() {
			autograd.Conv2d(autograd.Const(tensor.New(1, 4, 4, 3)), autograd.Const(tensor.New(2, 3, 3, 3)), nil, 0, 1)
		}, // stride 0
		func() {
			autograd.Conv2d(autograd.Const(tensor.New(1, 4, 4, 3)), autograd.Const(tensor.New(2, 3, 3, 3)), autograd.Const(tensor.New(3)), 1, 1)
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

// randTensor returns a tensor of uniform values in [lo, hi) from a fixed
// seed.
func randTensor(seed uint64, lo, hi float32, shape ...int) *tensor.Tensor {
	rng := rand.New(rand.NewPCG(seed, 7))
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*rng.Float32()
	}
	return t
}

func init() {
	conv := func(name string, seed uint64, xs, ws []int, bias bool, stride, pad int) gradCase {
		in := []*tensor.Tensor{randTensor(seed, -1, 1, xs...), randTensor(seed+1, -1, 1, ws...)}
		if bias {
			in = append(in, randTensor(seed+2, -1, 1, ws[0]))
		}
		return gradCase{name: name, op: autograd.OpConv2d, in: in, f: func(v []*autograd.Value) *autograd.Value {
			var b *autograd.Value
			if bias {
				b = v[2]
			}
			return autograd.Conv2d(v[0], v[1], b, stride, pad)
		}}
	}
	gradCases = append(gradCases,
		conv("Conv2d/k3s1p1_bias", 1, []int{2, 5, 4, 3}, []int{4, 3, 3, 3}, true, 1, 1),
		conv("Conv2d/k3s2p1_c1", 2, []int{2, 6, 6, 1}, []int{2, 1, 3, 3}, false, 2, 1),
		conv("Conv2d/k1s2_bias", 3, []int{1, 5, 5, 3}, []int{4, 3, 1, 1}, true, 2, 0),
		conv("Conv2d/k1s1", 4, []int{2, 3, 3, 4}, []int{3, 4, 1, 1}, false, 1, 0),
		conv("Conv2d/k7s2p3", 5, []int{1, 8, 7, 2}, []int{2, 2, 7, 7}, true, 2, 3),
		// tiny maps (kernels' conv_tiny.go): multi-crop's 2×2 layer4 and
		// the stride-2 4×4 → 2×2 convolution before it
		conv("Conv2d/tiny2x2_k3s1p1", 6, []int{3, 2, 2, 5}, []int{4, 5, 3, 3}, true, 1, 1),
		conv("Conv2d/tiny4x4_k3s2p1", 7, []int{2, 4, 4, 3}, []int{5, 3, 3, 3}, false, 2, 1),
	)
}

func ExampleConv2d() {
	// One 3×3 single-channel image of ones (NHWC) and one 3×3 filter of
	// ones (OIHW), padded by one: each output counts the taps inside.
	x := autograd.Param(tensor.Full(1, 1, 3, 3, 1))
	w := autograd.Param(tensor.Full(1, 1, 1, 3, 3))
	y := autograd.Conv2d(x, w, nil, 1, 1)
	fmt.Println(y.Shape(), y.Data.Data)
	autograd.Backward(autograd.Sum(y, nil, false))
	fmt.Println(w.Grad.Data) // dw[kh][kw] counts the outputs whose tap (kh, kw) lies inside x
	// Output:
	// [1 3 3 1] [4 6 4 6 9 6 4 6 4]
	// [4 6 4 6 9 6 4 6 4]
}
