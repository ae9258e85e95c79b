package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// Func records an operation the engine does not know, given by its result
// and its backward rule: out is the value of the operation on x (a new
// tensor that Func takes ownership of; it is not returned to the pool),
// and backward receives the gradient of out and returns the gradient of
// x (a tensor of x's shape, which Func adds into x's gradient; Func does
// not keep it). Cross-process collectives use it: an all-gather of the
// embeddings of every process whose backward is the reduce-scatter of the
// gradient.
func Func(x *Value, out *tensor.Tensor, backward func(g *tensor.Tensor) *tensor.Tensor) *Value {
	bw := func(g *tensor.Tensor) {
		gx := backward(g)
		if !tensor.SameShape(gx, x.Data) {
			panic(fmt.Sprintf("autograd.Func: backward returned a gradient of shape %v for an input of shape %v", gx.Shape(), x.Shape()))
		}
		dst := x.GradBuf().Data
		for i, v := range gx.Data {
			dst[i] += v
		}
	}
	v := newResult(OpFunc, out, true, bw, x)
	return v
}
