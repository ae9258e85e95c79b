package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// randomIndex is an in-memory index of n random unit vectors of d values.
func randomIndex(n, d int, seed uint64) *Index {
	rng := rand.New(rand.NewPCG(seed, 7))
	v := make([]float32, n*d)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	for i := 0; i < n; i++ {
		Normalize(v[i*d : (i+1)*d])
	}
	return &Index{N: n, D: d, Vectors: v, Entries: make([]Entry, n)}
}

// BenchmarkSearch measures exact search (k = 10) over 10k, 100k and 1M
// vectors of 128 dimensions, one query at a time and in batches of 64,
// reporting queries per second (wall clock) and per CPU-second (all
// threads: the rate a machine's cores give when nothing else runs on
// them). The 1M index takes 512 MB.
func BenchmarkSearch(b *testing.B) {
	const d, k = 128, 10
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			ix := randomIndex(n, d, 1)
			for _, nq := range []int{1, 64} {
				q := randomIndex(nq, d, 2).Vectors
				b.Run(fmt.Sprintf("batch=%d", nq), func(b *testing.B) {
					cpu0 := cpuTime()
					for b.Loop() {
						if _, err := ix.Search(q, nq, k, nil); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(nq*b.N)/b.Elapsed().Seconds(), "queries/s")
					if cpu := cpuTime() - cpu0; cpu > 0 {
						b.ReportMetric(float64(nq*b.N)/cpu.Seconds(), "queries/cpu-s")
					}
				})
			}
		})
	}
}
