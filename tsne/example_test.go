package tsne_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/tsne"
)

// Two well-separated Gaussian clouds in 10-D stay apart in the 2-D map.
func ExampleRun() {
	const n, d = 60, 10
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, n*d)
	for i := 0; i < n; i++ {
		for k := 0; k < d; k++ {
			x[i*d+k] = float32(rng.NormFloat64())
			if i >= n/2 {
				x[i*d+k] += 10
			}
		}
	}
	y, err := tsne.Run(x, n, d, tsne.Config{Perplexity: 10, Iterations: 300, Seed: 1})
	if err != nil {
		panic(err)
	}
	// Every point's nearest 2-D neighbour is in its own cloud.
	same := 0
	for i := range y {
		best, bj := 1e300, -1
		for j := range y {
			dx, dy := y[i][0]-y[j][0], y[i][1]-y[j][1]
			if dd := dx*dx + dy*dy; j != i && dd < best {
				best, bj = dd, j
			}
		}
		if (bj < n/2) == (i < n/2) {
			same++
		}
	}
	fmt.Printf("%d points, %d with a neighbour from their own cloud\n", len(y), same)
	// Output: 60 points, 60 with a neighbour from their own cloud
}
