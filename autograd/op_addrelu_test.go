package autograd_test

import (
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

func init() {
	gradCases = append(gradCases, gradCase{
		name: "AddReLU", op: autograd.OpAddReLU,
		in: []*tensor.Tensor{randT(41, 2, 3, 4), randT(42, 2, 3, 4)},
		f:  func(v []*autograd.Value) *autograd.Value { return autograd.AddReLU(v[0], v[1]) },
	})
}

// TestAddReLUMatchesComposite compares AddReLU with ReLU(Add(a, b)):
// values and both gradients, including an input used twice (x + x) and
// inputs whose gradients already hold values.
func TestAddReLUMatchesComposite(t *testing.T) {
	for _, twice := range []bool{false, true} {
		run := func(fused bool) (y, ga, gb *tensor.Tensor) {
			a := autograd.Param(randT(7, 5, 6).Clone())
			b := a
			if !twice {
				b = autograd.Param(randT(8, 5, 6).Clone())
			}
			// a earlier contribution to a's gradient: the accumulating path
			pre := autograd.Sum(autograd.Scale(a, 0.5), nil, false)
			var out *autograd.Value
			if fused {
				out = autograd.AddReLU(a, b)
			} else {
				out = autograd.ReLU(autograd.Add(a, b))
			}
			w := autograd.Const(randT(9, 5, 6))
			l := autograd.Add(autograd.Sum(autograd.Mul(out, w), nil, false), pre)
			autograd.Backward(l)
			return out.Data.Clone(), a.Grad.Clone(), b.Grad.Clone()
		}
		y1, a1, b1 := run(true)
		y2, a2, b2 := run(false)
		for _, p := range [][2]*tensor.Tensor{{y1, y2}, {a1, a2}, {b1, b2}} {
			if d := tensor.MaxAbsDiff(p[0], p[1]); d != 0 {
				t.Errorf("twice=%v: fused and composite differ by %g", twice, d)
			}
		}
	}
}
