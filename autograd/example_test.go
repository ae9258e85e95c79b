package autograd_test

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Build a small graph, backpropagate, read the gradients, then return the
// graph's buffers to the pool.
func ExampleBackward() {
	x := autograd.Param(tensor.FromSlice([]float32{1, 2, 3}, 3))
	// loss = Σ x² + Σ x: x is used twice, so its gradient is 2x + 1.
	loss := autograd.Add(autograd.Sum(autograd.Mul(x, x), nil, false), autograd.Sum(x, nil, false))
	autograd.Backward(loss)
	fmt.Println(loss.Item(), x.Grad.Data)
	autograd.Free(loss)
	// Output: 20 [3 5 7]
}

// A linear layer with torch's weight layout [out, in] and a mean
// cross-entropy over two rows.
func ExampleCrossEntropy() {
	x := autograd.Const(tensor.FromSlice([]float32{1, 0, 0, 1}, 2, 2))
	w := autograd.Param(tensor.FromSlice([]float32{2, 0, 0, 2, 1, 1}, 3, 2))
	logits := autograd.Linear(x, w, nil) // [2, 3]
	loss := autograd.CrossEntropy(logits, []int{0, 1})
	autograd.Backward(loss)
	fmt.Printf("logits %v\nloss %.4f\ndw %.4f\n", logits.Data.Data, loss.Item(), w.Grad.Data)
	// Output:
	// logits [2 0 1 0 2 1]
	// loss 0.4076
	// dw [-0.1674 0.0450 0.0450 -0.1674 0.1224 0.1224]
}

// Broadcasting follows NumPy: [2,3] + [3] adds the row to every row, and
// the gradient of the broadcast operand is summed over the rows.
func ExampleAdd() {
	a := autograd.Param(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	b := autograd.Param(tensor.FromSlice([]float32{10, 20, 30}, 3))
	y := autograd.Add(a, b)
	autograd.Backward(autograd.Sum(y, nil, false))
	fmt.Println(y.Shape(), y.Data.Data, b.Grad.Data)
	// Output: [2 3] [11 22 33 14 25 36] [2 2 2]
}

// L2Normalize matches torch.nn.functional.normalize(x, dim=-1).
func ExampleL2Normalize() {
	x := autograd.Const(tensor.FromSlice([]float32{3, 4, 0, 0}, 2, 2))
	fmt.Println(autograd.L2Normalize(x, 1e-12).Data.Data)
	// Output: [0.6 0.8 0 0]
}
