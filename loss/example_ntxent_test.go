package loss_test

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// NT-Xent of two views of three images: when each view matches its partner
// the loss is lower than when the views are paired the wrong way round.
func ExampleNTXent() {
	z1 := autograd.Param(tensor.FromSlice([]float32{1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3))
	z2 := autograd.Const(tensor.FromSlice([]float32{0.9, 0.1, 0, 0.1, 0.9, 0, 0, 0.1, 0.9}, 3, 3))
	l := loss.NTXent(z1, z2, 0.5)
	autograd.Backward(l)
	fmt.Printf("loss %.4f, grad shape %v\n", l.Item(), z1.Grad.Shape())

	shuffled := autograd.Const(tensor.FromSlice([]float32{0.1, 0.9, 0, 0, 0.1, 0.9, 0.9, 0.1, 0}, 3, 3))
	fmt.Printf("mismatched pairs: %.4f\n", loss.NTXent(z1, shuffled, 0.5).Item())
	// Output:
	// loss 0.4816, grad shape [3 3]
	// mismatched pairs: 2.3221
}
