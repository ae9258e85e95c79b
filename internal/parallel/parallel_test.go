package parallel

import (
	"sync/atomic"
	"testing"
)

func TestForCoversRangeOnce(t *testing.T) {
	for _, w := range []int{1, 2, 3, 8} {
		old := SetWorkers(w)
		for _, n := range []int{0, 1, 2, 7, 100, 1001} {
			for _, grain := range []int{1, 3, 64} {
				hits := make([]int32, n)
				For(n, grain, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						atomic.AddInt32(&hits[i], 1)
					}
				})
				for i, h := range hits {
					if h != 1 {
						t.Fatalf("workers=%d n=%d grain=%d: index %d visited %d times", w, n, grain, i, h)
					}
				}
			}
		}
		SetWorkers(old)
	}
}

func TestForNestedAndConcurrent(t *testing.T) {
	old := SetWorkers(4)
	defer SetWorkers(old)
	const n = 300
	var hits [n * n]int32
	done := make(chan struct{})
	for g := 0; g < 3; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for rep := 0; rep < 50; rep++ {
				var c atomic.Int64
				For(1000, 7, func(lo, hi int) { c.Add(int64(hi - lo)) })
				if c.Load() != 1000 {
					t.Errorf("concurrent For covered %d of 1000", c.Load())
				}
			}
		}()
	}
	For(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			For(n, 3, func(lo2, hi2 int) {
				for k := lo2; k < hi2; k++ {
					atomic.AddInt32(&hits[i*n+k], 1)
				}
			})
		}
	})
	for g := 0; g < 3; g++ {
		<-done
	}
	for i, h := range hits {
		if h != 1 {
			t.Fatalf("nested For: cell %d visited %d times", i, h)
		}
	}
}

// BenchmarkForSmall measures the cost of one For call over tiny work, the
// pattern of a small encoder's training step.
func BenchmarkForSmall(b *testing.B) {
	var sink [64]float32
	for i := 0; i < b.N; i++ {
		For(64, 1, func(lo, hi int) {
			for k := lo; k < hi; k++ {
				sink[k] += 1
			}
		})
	}
}
