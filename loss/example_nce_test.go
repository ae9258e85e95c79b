package loss_test

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// InstDisc's NCE for two embeddings against a bank of 1000 samples: the
// normalising constant Z is estimated once from the batch, then the loss
// is low when each embedding is close to its own bank row and far from
// the noise rows.
func ExampleNCE() {
	v := tensor.FromSlice([]float32{1, 0, 0, 1}, 2, 2)
	pos := autograd.Const(tensor.FromSlice([]float32{0.8, 0.6, 0.6, 0.8}, 2, 2))
	noise := autograd.Const(tensor.FromSlice([]float32{-1, 0, 0, -1, -0.6, -0.8}, 3, 2))
	logZ := loss.NCELogZ(v, pos.Data, noise.Data, 0.07, 1000)
	x := autograd.Param(v)
	l := loss.NCE(x, pos, noise, 0.07, logZ, 1000)
	autograd.Backward(l)
	fmt.Printf("log Z %.3f, loss %.4f, grad shape %v\n", logZ, l.Item(), x.Grad.Shape())

	swapped := autograd.Const(tensor.FromSlice([]float32{0, 1, 1, 0}, 2, 2))
	fmt.Printf("wrong positives: %.4f\n", loss.NCE(autograd.Const(v), swapped, noise, 0.07, logZ, 1000).Item())
	// Output:
	// log Z 16.950, loss 0.5596, grad shape [2 2]
	// wrong positives: 11.1409
}
