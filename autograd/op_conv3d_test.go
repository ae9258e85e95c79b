package autograd_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/tensor"
)

const videoFixtureScript = "/usr/bin/python3 tools/gen_video_fixtures.py"

// loadVideoFixture reads autograd/testdata/conv3d.safetensors, written by
// tools/gen_video_fixtures.py (activations NTHWC, weights OITHW).
func loadVideoFixture(t *testing.T) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read("testdata/conv3d.safetensors")
	if err != nil {
		t.Fatalf("%v (re-run `%s` from the repository root)", err, videoFixtureScript)
	}
	if p := f.Metadata["producer"]; p != "tools/gen_video_fixtures.py" {
		t.Fatalf("testdata/conv3d.safetensors: producer %q (re-run `%s`)", p, videoFixtureScript)
	}
	return f
}

func TestConv3dMatchesTorch(t *testing.T) {
	f := loadVideoFixture(t)
	cases := fixtureCases(f, "conv3d")
	if len(cases) < 7 {
		t.Fatalf("conv3d.safetensors holds %d conv3d cases, want 7 (re-run `%s`)", len(cases), videoFixtureScript)
	}
	for _, pre := range cases {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(pre, "conv3d/"), "/"), func(t *testing.T) {
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
			// Twice: the second backward must add to the first.
			for range 2 {
				y := autograd.Conv3d(x, w, b, sp[0], sp[1], sp[2], sp[3])
				expectClose(t, "y", y.Data, fixtureTensor(t, f, pre+"y"), 1e-4)
				autograd.BackwardWith(y, fixtureTensor(t, f, pre+"dy"))
				autograd.Free(y)
			}
			twice := func(name string) *tensor.Tensor {
				w := fixtureTensor(t, f, pre+name).Clone()
				for i := range w.Data {
					w.Data[i] *= 2
				}
				return w
			}
			expectClose(t, "dx", x.Grad, twice("dx"), 1e-4)
			expectClose(t, "dw", w.Grad, twice("dw"), 1e-4)
			if b != nil {
				expectClose(t, "db", b.Grad, twice("db"), 1e-4)
			}
		})
	}
}

func TestMaxPool3dMatchesTorch(t *testing.T) {
	f := loadVideoFixture(t)
	cases := fixtureCases(f, "maxpool3d")
	if len(cases) < 3 {
		t.Fatalf("conv3d.safetensors holds %d maxpool3d cases, want 3 (re-run `%s`)", len(cases), videoFixtureScript)
	}
	for _, pre := range cases {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(pre, "maxpool3d/"), "/"), func(t *testing.T) {
			p, err := f.Ints(pre + "params")
			if err != nil {
				t.Fatal(err)
			}
			x := autograd.Param(fixtureTensor(t, f, pre+"x"))
			y := autograd.MaxPool3d(x, p[0], p[1], p[2], p[3], p[4], p[5])
			expectClose(t, "y", y.Data, fixtureTensor(t, f, pre+"y"), 1e-6)
			autograd.BackwardWith(y, fixtureTensor(t, f, pre+"dy"))
			expectClose(t, "dx", x.Grad, fixtureTensor(t, f, pre+"dx"), 1e-6)
			autograd.Free(y)
		})
	}
}

func init() {
	conv := func(name string, x, w *tensor.Tensor, bias bool, st, s, pt, p int) gradCase {
		in := []*tensor.Tensor{x, w}
		if bias {
			in = append(in, randT(seedOf(name+"/b"), w.Dim(0)))
		}
		return gradCase{name: "conv3d/" + name, op: autograd.OpConv3d, in: in, f: func(v []*autograd.Value) *autograd.Value {
			var b *autograd.Value
			if len(v) > 2 {
				b = v[2]
			}
			return autograd.Conv3d(v[0], v[1], b, st, s, pt, p)
		}}
	}
	gradCases = append(gradCases,
		conv("k333s111p111", randT(31, 1, 3, 4, 4, 2), randT(32, 3, 2, 3, 3, 3), true, 1, 1, 1, 1),
		conv("k333s222p111", randT(33, 2, 4, 5, 5, 3), randT(34, 2, 3, 3, 3, 3), false, 2, 2, 1, 1),
		conv("k311s211p100", randT(35, 1, 5, 3, 3, 4), randT(36, 3, 4, 3, 1, 1), false, 2, 1, 1, 0),
		conv("k133s121p011", randT(37, 1, 2, 4, 4, 3), randT(38, 2, 3, 1, 3, 3), true, 1, 2, 0, 1),
		conv("k333p111_t1", randT(41, 2, 1, 3, 3, 3), randT(42, 2, 3, 3, 3, 3), false, 1, 1, 1, 1), // middle tap only
		conv("k333s222p111_t2", randT(43, 1, 2, 4, 4, 2), randT(44, 3, 2, 3, 3, 3), false, 2, 2, 1, 1),
		gradCase{name: "MaxPool3d/k333s222p111", op: autograd.OpMaxPool3d, in: []*tensor.Tensor{distinctTensor(39, 1, 4, 5, 5, 2)},
			f: func(v []*autograd.Value) *autograd.Value { return autograd.MaxPool3d(v[0], 3, 3, 2, 2, 1, 1) }},
		gradCase{name: "MaxPool3d/k122s122p000", op: autograd.OpMaxPool3d, in: []*tensor.Tensor{distinctTensor(40, 2, 2, 4, 4, 3)},
			f: func(v []*autograd.Value) *autograd.Value { return autograd.MaxPool3d(v[0], 1, 2, 1, 2, 0, 0) }},
	)
}

func ExampleConv3d() {
	// One clip of 3 frames of 2×2 pixels, one channel holding the frame
	// number; a 3×1×1 kernel of ones sums each frame with its neighbours
	// (zero padding in time).
	x := tensor.New(1, 3, 2, 2, 1)
	for t := 0; t < 3; t++ {
		for i := 0; i < 4; i++ {
			x.Data[t*4+i] = float32(t + 1)
		}
	}
	w := tensor.Full(1, 1, 1, 3, 1, 1)
	y := autograd.Conv3d(autograd.Const(x), autograd.Const(w), nil, 1, 1, 1, 0)
	fmt.Println(y.Shape(), y.Data.Data[0], y.Data.Data[4], y.Data.Data[8])
	// Output: [1 3 2 2 1] 3 6 5
}
