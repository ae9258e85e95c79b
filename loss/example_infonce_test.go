package loss_test

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// MoCo's InfoNCE for two unit queries: each query's positive key is the
// query itself and the queue holds three other unit keys. The logits put
// the positive at index 0; the loss is lower than when the keys are swapped.
func ExampleInfoNCE() {
	q := autograd.Param(tensor.FromSlice([]float32{1, 0, 0, 0, 1, 0}, 2, 3))
	k := autograd.Const(tensor.FromSlice([]float32{1, 0, 0, 0, 1, 0}, 2, 3))
	queue := autograd.Const(tensor.FromSlice([]float32{0, 0, 1, 0.6, 0.8, 0, -1, 0, 0}, 3, 3))
	fmt.Printf("logits %v\n", loss.InfoNCELogits(q, k, queue, 0.5).Data.Data)
	l := loss.InfoNCE(q, k, queue, 0.5)
	autograd.Backward(l)
	fmt.Printf("loss %.4f, grad shape %v\n", l.Item(), q.Grad.Shape())

	swapped := autograd.Const(tensor.FromSlice([]float32{0, 1, 0, 1, 0, 0}, 2, 3))
	fmt.Printf("wrong keys: %.4f\n", loss.InfoNCE(q, swapped, queue, 0.5).Item())
	// Output:
	// logits [2 0 1.2 -2 2 0 1.6 0]
	// loss 0.5675, grad shape [2 3]
	// wrong keys: 1.8851
}
