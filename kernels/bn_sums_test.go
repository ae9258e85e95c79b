package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBatchNormSums: the float64 totals agree with the float32 kernels
// and with sums computed here in float64, on rows with |mean| ≫ std.
func TestBatchNormSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const m, c = 700, 19
	x, dy, y := make([]float32, m*c), make([]float32, m*c), make([]float32, m*c)
	for i := range x {
		x[i] = 100 + float32(rng.NormFloat64())*0.01
		dy[i] = float32(rng.NormFloat64())
		y[i] = float32(rng.NormFloat64())
	}
	mean, m2 := make([]float64, c), make([]float64, c)
	BatchNormMoments(x, m, c, mean, m2)
	mean32, var32 := make([]float32, c), make([]float32, c)
	BatchNormStats(x, m, c, mean32, var32)
	s1, s2 := make([]float64, c), make([]float64, c)
	BatchNormBackwardSums(x, dy, y, m, c, mean32, s1, s2)
	for ch := range c {
		var want, sq, w1, w2 float64
		for r := range m {
			want += float64(x[r*c+ch])
		}
		want /= m
		for r := range m {
			d := float64(x[r*c+ch]) - want
			sq += d * d
			if y[r*c+ch] > 0 {
				w1 += float64(dy[r*c+ch])
				w2 += float64(dy[r*c+ch]) * (float64(x[r*c+ch]) - float64(mean32[ch]))
			}
		}
		if math.Abs(mean[ch]-want) > 1e-6 || math.Abs(m2[ch]-sq) > 1e-3*sq {
			t.Errorf("channel %d: mean %v, M2 %v; want %v, %v", ch, mean[ch], m2[ch], want, sq)
		}
		if math.Abs(float64(var32[ch])-m2[ch]/m) > 1e-4*sq/m {
			t.Errorf("channel %d: BatchNormStats variance %v, M2/M %v", ch, var32[ch], m2[ch]/m)
		}
		if math.Abs(s1[ch]-w1) > 1e-4 || math.Abs(s2[ch]-w2) > 1e-5 {
			t.Errorf("channel %d: sums %v %v, want %v %v", ch, s1[ch], s2[ch], w1, w2)
		}
	}
}
