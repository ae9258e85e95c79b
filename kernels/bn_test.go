package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// bnRun runs every batch-norm kernel on x, dy [m, c] and returns all the
// outputs concatenated.
func bnRun(x, dy []float32, m, c int, relu bool) []float32 {
	mean := make([]float32, c)
	variance := make([]float32, c)
	BatchNormStats(x, m, c, mean, variance)
	gamma := make([]float32, c)
	beta := make([]float32, c)
	for i := range gamma {
		gamma[i] = 0.5 + float32(i%7)*0.25
		beta[i] = float32(i%5)*0.3 - 0.6
	}
	invstd, scale, shift := make([]float32, c), make([]float32, c), make([]float32, c)
	BatchNormScaleShift(mean, variance, gamma, beta, 1e-5, invstd, scale, shift)
	y := make([]float32, m*c)
	BatchNormApply(x, m, c, scale, shift, relu, y)
	var ymask []float32
	if relu {
		ymask = y
	}
	sumDy, sumDyXhat := make([]float32, c), make([]float32, c)
	BatchNormBackwardReduce(x, dy, ymask, m, c, mean, invstd, sumDy, sumDyXhat)
	a, b, d := make([]float32, c), make([]float32, c), make([]float32, c)
	BatchNormBackwardCoeffs(m, gamma, mean, invstd, sumDy, sumDyXhat, true, a, b, d)
	dx := make([]float32, m*c)
	for i := range dx {
		dx[i] = 0.5
	}
	BatchNormBackwardInput(x, dy, ymask, m, c, a, b, d, dx)
	out := append(append(append([]float32{}, mean...), variance...), y...)
	return append(append(append(out, sumDy...), sumDyXhat...), dx...)
}

// TestBatchNormKernelsMatchGo compares the AVX-512 block kernels with the
// Go loops over channel counts that hit every mask (1, 15, 16, 17, 64, 65,
// 130) and row counts across the reduction blocks.
func TestBatchNormKernelsMatchGo(t *testing.T) {
	if !useConvAVX512 {
		t.Skip("no AVX-512 kernels on this CPU/build")
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, c := range []int{1, 15, 16, 17, 64, 65, 130} {
		for _, m := range []int{7, 300, 1000} {
			for _, relu := range []bool{false, true} {
				t.Run(fmt.Sprintf("c%d_m%d_relu%v", c, m, relu), func(t *testing.T) {
					x := randSlice(rng, m*c)
					for i := range x {
						x[i] = x[i]*3 + 10 // a large mean
					}
					dy := randSlice(rng, m*c)
					asm := bnRun(x, dy, m, c, relu)
					useConvAVX512 = false
					ref := bnRun(x, dy, m, c, relu)
					useConvAVX512 = true
					// dx = a·g + b·x + d cancels b·x ≈ 10·b against d: FMA
					// rounding differs by ~1e-4 of the terms.
					for i := range ref {
						if d := math.Abs(float64(asm[i] - ref[i])); d > 1e-3*math.Max(1, math.Abs(float64(ref[i]))) {
							t.Fatalf("output %d: %v with AVX-512, %v in Go", i, asm[i], ref[i])
						}
					}
				})
			}
		}
	}
}

// TestBatchNormStatsExact checks mean and variance on values with exact
// float32 sums.
func TestBatchNormStatsExact(t *testing.T) {
	const m, c = 600, 3
	x := make([]float32, m*c)
	for r := 0; r < m; r++ {
		for i := 0; i < c; i++ {
			x[r*c+i] = float32(i) + float32(r%4) // mean i+1.5, variance 1.25
		}
	}
	mean, variance := make([]float32, c), make([]float32, c)
	BatchNormStats(x, m, c, mean, variance)
	for i := 0; i < c; i++ {
		if mean[i] != float32(i)+1.5 || math.Abs(float64(variance[i])-1.25) > 1e-6 {
			t.Errorf("channel %d: mean %v variance %v, want %v 1.25", i, mean[i], variance[i], float32(i)+1.5)
		}
	}
}
