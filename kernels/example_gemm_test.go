package kernels_test

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/kernels"
)

// C (2×2) = A (2×3) · B (3×2), all row-major.
func ExampleSgemm() {
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		1, 0,
		0, 1,
		1, 1,
	}
	c := make([]float32, 4)
	kernels.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)

	// The Gram matrix A·Aᵀ (2×2, transB) into a C with row stride 3:
	// ldc may exceed n, and the third column is left alone.
	g := make([]float32, 2*3)
	kernels.Sgemm(false, true, 2, 2, 3, 1, a, 3, a, 3, 0, g, 3)
	fmt.Println(g)
	// Output:
	// [4 5 10 11]
	// [14 32 0 32 77 0]
}

// Two samples share one weight matrix W (stride 0): Y_i = X_i · Wᵀ.
func ExampleSgemmBatched() {
	w := []float32{ // 2 outputs × 2 inputs
		1, 1,
		1, -1,
	}
	x := []float32{ // 2 samples, each 1×2
		3, 1,
		2, 5,
	}
	y := make([]float32, 4)
	kernels.SgemmBatched(false, true, 2, 1, 2, 2, 1, x, 2, 2, w, 2, 0, 0, y, 2, 2)
	fmt.Println(y)
	// Output: [4 2 7 -3]
}
