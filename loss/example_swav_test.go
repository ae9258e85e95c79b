package loss_test

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Four samples, two prototypes: three samples prefer prototype 0. A plain
// softmax of scores/ε would give the third sample the code (0.881, 0.119);
// the equal-partition constraint moves it towards prototype 1, so that
// each prototype receives about half of the batch.
func ExampleSinkhornKnopp() {
	scores := tensor.FromSlice([]float32{
		0.9, 0.1,
		0.8, 0.2,
		0.55, 0.45,
		0.1, 0.9,
	}, 4, 2)
	q := loss.SinkhornKnopp(scores, 0.05, 3)
	for i := 0; i < 4; i++ {
		fmt.Printf("sample %d: %.3f %.3f\n", i, q.At(i, 0), q.At(i, 1))
	}
	// Output:
	// sample 0: 1.000 0.000
	// sample 1: 1.000 0.000
	// sample 2: 0.548 0.452
	// sample 3: 0.000 1.000
}

// Swapped prediction for two crops of two images: each crop's scores
// predict the other crop's codes. The crops agree on the clusters, so the
// loss is small.
func ExampleSwappedPrediction() {
	scores := autograd.Param(tensor.FromSlice([]float32{
		0.9, -0.2, // crop 0, image 0
		-0.1, 0.8, // crop 0, image 1
		0.7, 0.1, // crop 1, image 0
		0.2, 0.6, // crop 1, image 1
	}, 4, 2))
	var codes []*tensor.Tensor
	for c := 0; c < 2; c++ {
		codes = append(codes, loss.SinkhornKnopp(scores.Data.Slice(2*c, 2*c+2), 0.05, 3))
	}
	l := loss.SwappedPrediction(scores, codes, []int{0, 1}, 0.1)
	autograd.Backward(l)
	fmt.Printf("loss %.4f, grad shape %v\n", l.Item(), scores.Grad.Shape())
	// Output:
	// loss 0.0054, grad shape [4 2]
}
