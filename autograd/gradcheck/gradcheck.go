// Package gradcheck compares the gradients autograd computes with central
// finite differences, computed in float64 around float32 inputs.
package gradcheck

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Options tunes a check. Zero values take the defaults shown.
type Options struct {
	Eps    float64 // finite-difference step (1e-2; float32 needs a large step)
	RelTol float64 // allowed |analytic-numeric| / max(1, |numeric|) (2e-2)
	// Kink, when set, skips elements whose input lies within Eps of a point
	// where the function is not differentiable (ReLU at 0, max-pool ties).
	Kink func(input, index int) bool
}

// Check builds f(inputs) -> scalar, backpropagates, and compares every
// input's gradient with (f(x+eps)-f(x-eps))/(2 eps). f is rebuilt for
// every perturbation and must be deterministic. It returns an error naming
// the first input and element that disagree.
func Check(f func(in []*autograd.Value) *autograd.Value, inputs []*tensor.Tensor, opt Options) error {
	if opt.Eps == 0 {
		opt.Eps = 1e-2
	}
	if opt.RelTol == 0 {
		opt.RelTol = 2e-2
	}
	vals := make([]*autograd.Value, len(inputs))
	for i, t := range inputs {
		vals[i] = autograd.Param(t)
	}
	out := f(vals)
	autograd.Backward(out)
	eval := func() float64 {
		var r float64
		autograd.NoGrad(func() {
			vs := make([]*autograd.Value, len(inputs))
			for i, t := range inputs {
				vs[i] = autograd.Const(t)
			}
			r = float64(f(vs).Item())
		})
		return r
	}
	for i, t := range inputs {
		g := vals[i].Grad
		if g == nil {
			g = tensor.New(t.Shape()...)
		}
		for j := range t.Data {
			if opt.Kink != nil && opt.Kink(i, j) {
				continue
			}
			orig := t.Data[j]
			t.Data[j] = float32(float64(orig) + opt.Eps)
			up := eval()
			t.Data[j] = float32(float64(orig) - opt.Eps)
			down := eval()
			t.Data[j] = orig
			num := (up - down) / (2 * opt.Eps)
			ana := float64(g.Data[j])
			if d := math.Abs(ana - num); d > opt.RelTol*math.Max(1, math.Abs(num)) || math.IsNaN(ana) {
				return fmt.Errorf("input %d %v element %d: analytic gradient %.6g, numeric %.6g", i, t.Shape(), j, ana, num)
			}
		}
	}
	return nil
}
