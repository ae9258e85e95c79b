package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// SgemmBenchOptions configures BenchSgemm.
type SgemmBenchOptions struct {
	M, N, K        int  // C is M×N, the inner dimension K
	TransA, TransB bool // operand layouts, as in Sgemm
	Threads        int  // workers (parallel.SetWorkers) for the run; 0 keeps parallel.Workers()
	Repeats        int  // timed runs after one untimed warm-up; 0 means 5
	Impl           string
	// Impl selects the implementation ("avx512", "avx2", "generic"); ""
	// keeps the one Sgemm uses (Impl()).
}

// SgemmBenchResult is what BenchSgemm measured. Its JSON form is the one
// `contrastive bench gemm --json` and bench/torch_gemm.py print.
type SgemmBenchResult struct {
	Op      string  `json:"op"` // "sgemm"
	M       int     `json:"m"`
	N       int     `json:"n"`
	K       int     `json:"k"`
	TransA  bool    `json:"trans_a,omitempty"`
	TransB  bool    `json:"trans_b,omitempty"`
	Impl    string  `json:"impl"`
	Threads int     `json:"threads"`
	Repeats int     `json:"repeats"`
	GFLOPS  float64 `json:"gflops"`  // 2·M·N·K / Seconds / 1e9
	Seconds float64 `json:"seconds"` // the fastest timed run
	Median  float64 `json:"median_seconds"`
}

// BenchSgemm times C = A·B (beta = 0) on random operands: one warm-up call
// (which also fills the packing pools), then Repeats timed calls; it
// reports the fastest, which is the least disturbed by other load on the
// machine, and the median.
//
// Threads and Impl change process-wide settings for the duration of the
// call (restored on return), so BenchSgemm must not run concurrently with
// other Sgemm calls.
func BenchSgemm(opt SgemmBenchOptions) (SgemmBenchResult, error) {
	if opt.M < 1 || opt.N < 1 || opt.K < 1 {
		return SgemmBenchResult{}, fmt.Errorf("kernels: bench sgemm: sizes must be positive, got m=%d n=%d k=%d", opt.M, opt.N, opt.K)
	}
	if opt.Threads < 0 {
		return SgemmBenchResult{}, fmt.Errorf("kernels: bench sgemm: threads must be ≥ 0, got %d", opt.Threads)
	}
	if opt.Repeats <= 0 {
		opt.Repeats = 5
	}
	if opt.Impl != "" {
		restore, err := setImpl(opt.Impl)
		if err != nil {
			return SgemmBenchResult{}, fmt.Errorf("bench sgemm: %w", err)
		}
		defer restore()
	}
	if opt.Threads > 0 {
		defer parallel.SetWorkers(parallel.SetWorkers(opt.Threads))
	}
	m, n, k := opt.M, opt.N, opt.K
	lda, ldb := k, n
	if opt.TransA {
		lda = m
	}
	if opt.TransB {
		ldb = k
	}
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = rng.Float32() - 0.5
	}
	for i := range b {
		b[i] = rng.Float32() - 0.5
	}
	run := func() time.Duration {
		t0 := time.Now()
		Sgemm(opt.TransA, opt.TransB, m, n, k, 1, a, lda, b, ldb, 0, c, n)
		return time.Since(t0)
	}
	run()
	times := make([]time.Duration, opt.Repeats)
	for i := range times {
		times[i] = run()
	}
	slices.Sort(times)
	best := times[0].Seconds()
	return SgemmBenchResult{
		Op: "sgemm", M: m, N: n, K: k, TransA: opt.TransA, TransB: opt.TransB,
		Impl: Impl(), Threads: parallel.Workers(), Repeats: opt.Repeats,
		GFLOPS:  2 * float64(m) * float64(n) * float64(k) / best / 1e9,
		Seconds: best, Median: times[len(times)/2].Seconds(),
	}, nil
}
