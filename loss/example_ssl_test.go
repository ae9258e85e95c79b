package loss_test

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// The non-contrastive losses on two views of four images: the views agree
// more in the first pair than in the second, and each loss says so.
func ExampleBarlowTwins() {
	z1 := tensor.FromSlice([]float32{1, 2, 0, 1, 3, 0, 2, 2}, 4, 2)
	close := tensor.FromSlice([]float32{1.1, 2, 0, 0.9, 2.8, 0.1, 2, 2.1}, 4, 2)
	far := tensor.FromSlice([]float32{3, 0, 0, 2, 1, 2, 2, 1}, 4, 2)
	autograd.NoGrad(func() {
		for _, z2 := range []*tensor.Tensor{close, far} {
			a, b := autograd.Const(z1), autograd.Const(z2)
			fmt.Printf("Barlow Twins %.4f  VICReg %.4f  BYOL %.4f\n",
				loss.BarlowTwins(a, b, 0.005).Item(),
				loss.VICReg(a, b, loss.VICRegWeights{Invariance: 25, Variance: 25, Covariance: 1}).Item(),
				loss.BYOL(a, b).Item())
		}
	})
	// Output:
	// Barlow Twins 0.0011  VICReg 1.1349  BYOL 0.0009
	// Barlow Twins 3.9481  VICReg 58.3926  BYOL 0.5784
}
