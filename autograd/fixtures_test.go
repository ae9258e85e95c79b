package autograd_test

import (
	"math"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/tensor"
)

const opsFixture = "testdata/autograd_ops.safetensors"
const opsFixtureScript = "tools/gen_autograd_fixtures.py"

// loadOpsFixture reads the PyTorch references written by
// tools/gen_autograd_fixtures.py.
func loadOpsFixture(t *testing.T) *safetensors.File {
	t.Helper()
	f, err := safetensors.Read(opsFixture)
	if err != nil {
		t.Fatalf("%v (re-run `/usr/bin/python3 %s` from the repository root)", err, opsFixtureScript)
	}
	if p := f.Metadata["producer"]; p != opsFixtureScript {
		t.Fatalf("%s: producer %q, want %q (re-run `/usr/bin/python3 %s`)", opsFixture, p, opsFixtureScript, opsFixtureScript)
	}
	return f
}

func fixture(t *testing.T, f *safetensors.File, name string) *tensor.Tensor {
	t.Helper()
	x, err := f.Float32(name)
	if err != nil {
		t.Fatalf("%s: %v (re-run `/usr/bin/python3 %s`)", opsFixture, err, opsFixtureScript)
	}
	return x
}

// closeTo fails unless every element satisfies |got-want| ≤ tol·max(1, |want|).
func closeTo(t *testing.T, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if !tensor.EqualShape(got.Shape(), want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	worst, at := 0.0, 0
	for i, w := range want.Data {
		d := math.Abs(float64(got.Data[i])-float64(w)) / math.Max(1, math.Abs(float64(w)))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if !(worst <= tol) {
		t.Errorf("%s: element %d = %v, want %v (relative error %.3g > %.3g; reference from %s)",
			what, at, got.Data[at], want.Data[at], worst, tol, opsFixtureScript)
	}
	if testing.Verbose() {
		t.Logf("%s: worst relative error %.3g", what, worst)
	}
}

func TestLastAxisOpsMatchTorch(t *testing.T) {
	f := loadOpsFixture(t)
	for _, c := range []struct {
		name string
		op   func(*autograd.Value) *autograd.Value
	}{{"softmax", autograd.Softmax}, {"log_softmax", autograd.LogSoftmax}} {
		x := autograd.Param(fixture(t, f, c.name+"/x"))
		y := c.op(x)
		closeTo(t, c.name+" forward", y.Data, fixture(t, f, c.name+"/y"), 5e-6)
		autograd.BackwardWith(y, fixture(t, f, c.name+"/g"))
		closeTo(t, c.name+" backward", x.Grad, fixture(t, f, c.name+"/dx"), 5e-6)
	}

	for _, name := range []string{"cross_entropy", "cross_entropy_large"} {
		x := autograd.Param(fixture(t, f, name+"/logits"))
		targets, err := f.Ints(name + "/targets")
		if err != nil {
			t.Fatalf("%v (re-run `/usr/bin/python3 %s`)", err, opsFixtureScript)
		}
		loss := autograd.CrossEntropy(x, targets)
		closeTo(t, name+" forward", loss.Data.Reshape(1), fixture(t, f, name+"/loss"), 5e-6)
		autograd.Backward(loss)
		closeTo(t, name+" backward", x.Grad, fixture(t, f, name+"/dlogits"), 5e-6)
	}

	x := autograd.Param(fixture(t, f, "l2normalize/x"))
	eps := fixture(t, f, "l2normalize/eps").Data[0]
	y := autograd.L2Normalize(x, eps)
	closeTo(t, "l2normalize forward", y.Data, fixture(t, f, "l2normalize/y"), 5e-6)
	autograd.BackwardWith(y, fixture(t, f, "l2normalize/g"))
	closeTo(t, "l2normalize backward", x.Grad, fixture(t, f, "l2normalize/dx"), 5e-6)
}
