package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels/kerneltest"
)

// forEachImpl runs f once per implementation available on this machine
// (plus the reference triple loop as "ref"), with Sgemm switched to it.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	for _, name := range Impls() {
		t.Run(name, func(t *testing.T) {
			restore, err := setImpl(name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t)
		})
	}
}

func TestSgemmConformance(t *testing.T) {
	t.Logf("Impls() = %v, Impl() = %s", Impls(), Impl())
	t.Run("ref", func(t *testing.T) {
		kerneltest.TestSgemm(t, kerneltest.SgemmFunc(sgemmRef))
	})
	forEachImpl(t, func(t *testing.T) {
		kerneltest.TestSgemm(t, kerneltest.SgemmFunc(Sgemm))
	})
}

// TestSgemmWorkers checks that the result does not depend on how the work
// is split (rows of A, columns of B, 1-3 workers): every split must give
// bitwise the same C, and a correct one.
func TestSgemmWorkers(t *testing.T) {
	cases := []kerneltest.SgemmCase{
		{M: 20, N: 3000, K: 100, Alpha: 1, Beta: 0},                           // too few rows: split columns
		{M: 500, N: 40, K: 300, Alpha: 1, Beta: 1, TransA: true, PadC: 3},     // split rows
		{M: 301, N: 333, K: 555, Alpha: 0.5, Beta: -2, TransB: true, PadA: 1}, // both dimensions awkward
		{M: 20, N: 100, K: 3000, Alpha: -2, Beta: 1, TransA: true, PadA: 2},   // columns split, Aᵀ read in place
		{M: 150, N: 64, K: 1100, Alpha: 1.5, Beta: 0, TransA: true},           // rows split, Aᵀ read in place
	}
	forEachImpl(t, func(t *testing.T) {
		for _, tc := range cases {
			var first []float32
			for _, w := range []int{1, 2, 3} {
				old := parallel.SetWorkers(w)
				if err := kerneltest.CheckSgemm(kerneltest.SgemmFunc(Sgemm), tc); err != nil {
					t.Errorf("workers=%d %v: %v", w, tc, err)
				}
				c := runCase(tc)
				parallel.SetWorkers(old)
				if first == nil {
					first = c
				} else if i := bitDiff(first, c); i >= 0 {
					t.Errorf("workers=%d %v: C[%d] = %g, with 1 worker %g", w, tc, i, c[i], first[i])
				}
			}
		}
	})
}

// runCase runs tc through Sgemm on fixed inputs and returns C.
func runCase(tc kerneltest.SgemmCase) []float32 {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = 2*rng.Float32() - 1
		}
		return s
	}
	lda, ldb, ldc := tc.K+tc.PadA, tc.N+tc.PadB, tc.N+tc.PadC
	if tc.TransA {
		lda = tc.M + tc.PadA
	}
	if tc.TransB {
		ldb = tc.K + tc.PadB
	}
	a, b, c := fill(max(tc.M, tc.K)*lda), fill(max(tc.K, tc.N)*ldb), fill(tc.M*ldc)
	Sgemm(tc.TransA, tc.TransB, tc.M, tc.N, tc.K, tc.Alpha, a, lda, b, ldb, tc.Beta, c, ldc)
	return c
}

func bitDiff(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestSgemmNoAllocs checks that, after warm-up, a call allocates nothing
// on one worker (parallel.For itself allocates to start goroutines).
func TestSgemmNoAllocs(t *testing.T) {
	old := parallel.SetWorkers(1)
	defer parallel.SetWorkers(old)
	const n = 200
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	forEachImpl(t, func(t *testing.T) {
		for _, tr := range [][2]bool{{false, false}, {true, true}} {
			allocs := testing.AllocsPerRun(5, func() {
				Sgemm(tr[0], tr[1], n, n, n, 1, a, n, b, n, 0.5, c, n)
			})
			if allocs != 0 {
				t.Errorf("trans=%v: %v allocations per call, want 0", tr, allocs)
			}
		}
	})
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 12)
	for _, tc := range []struct {
		name string
		call func()
		msg  string
	}{
		{"lda", func() { Sgemm(false, false, 3, 4, 4, 1, a, 3, a, 4, 0, a, 4) }, "lda too small"},
		{"ldb", func() { Sgemm(false, true, 3, 4, 3, 1, a, 3, a, 2, 0, a, 4) }, "ldb too small"},
		{"short c", func() { Sgemm(false, false, 4, 4, 3, 1, a, 3, a, 4, 0, a, 4) }, "c too short"},
		{"negative", func() { Sgemm(false, false, -1, 4, 3, 1, a, 3, a, 4, 0, a, 4) }, "negative size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, "kernels.Sgemm: "+tc.msg) {
					t.Errorf("panic %v, want one containing %q", r, tc.msg)
				}
			}()
			tc.call()
		})
	}
}

func benchSgemm(b *testing.B, n int) {
	a, bb, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i], bb[i] = float32(i%7)-3, float32(i%5)-2
	}
	Sgemm(false, false, n, n, n, 1, a, n, bb, n, 0, c, n) // warm up the pools
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Sgemm(false, false, n, n, n, 1, a, n, bb, n, 0, c, n)
	}
	b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm times square row-major C = A·B with the default
// implementation on parallel.Workers() goroutines.
func BenchmarkSgemm(b *testing.B) {
	for _, n := range []int{64, 256, 512, 1024, 2048} {
		b.Run(fmt.Sprint(n), func(b *testing.B) { benchSgemm(b, n) })
	}
}

// BenchmarkSgemmImpls times every implementation available here.
func BenchmarkSgemmImpls(b *testing.B) {
	for _, name := range Impls() {
		for _, n := range []int{256, 1024} {
			b.Run(fmt.Sprintf("%s/%d", name, n), func(b *testing.B) {
				restore, err := setImpl(name)
				if err != nil {
					b.Fatal(err)
				}
				defer restore()
				benchSgemm(b, n)
			})
		}
	}
}

// TestSgemmBatched checks SgemmBatched against one Sgemm per item (the
// results must be bitwise equal: the split does not change the
// arithmetic), for products small enough to run one per worker and large
// enough to run one after another, with a shared (stride 0) operand.
func TestSgemmBatched(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = 2*rng.Float32() - 1
		}
		return s
	}
	for _, tc := range []struct {
		batch, m, n, k int
		transA, transB bool
		shareA         bool
	}{
		{batch: 7, m: 9, n: 33, k: 20, transB: true, shareA: true},
		{batch: 5, m: 31, n: 17, k: 64, transA: true},
		{batch: 3, m: 200, n: 150, k: 120},
	} {
		lda, ldb, ldc := tc.k+1, tc.n, tc.n+2
		if tc.transA {
			lda = tc.m + 1
		}
		if tc.transB {
			ldb = tc.k
		}
		sizeA, sizeB, sizeC := max(tc.m, tc.k)*lda, max(tc.n, tc.k)*ldb, tc.m*ldc
		strideA := sizeA
		if tc.shareA {
			strideA = 0
		}
		a, b := fill(sizeA*tc.batch), fill(sizeB*tc.batch)
		c := fill(sizeC * tc.batch)
		want := clone32(c)
		for i := range tc.batch {
			Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 0.5, a[i*strideA:], lda, b[i*sizeB:], ldb, 1, want[i*sizeC:], ldc)
		}
		SgemmBatched(tc.transA, tc.transB, tc.batch, tc.m, tc.n, tc.k, 0.5, a, lda, strideA, b, ldb, sizeB, 1, c, ldc, sizeC)
		if i := bitDiff(want, c); i >= 0 {
			t.Errorf("%+v: c[%d] = %g, want %g", tc, i, c[i], want[i])
		}
	}
	t.Run("overlap", func(t *testing.T) {
		defer func() {
			if s, _ := recover().(string); !strings.Contains(s, "overlap") {
				t.Errorf("panic %q, want one about overlapping C", s)
			}
		}()
		x := make([]float32, 100)
		SgemmBatched(false, false, 2, 4, 4, 4, 1, x, 4, 16, x, 4, 16, 0, x, 4, 8)
	})
	t.Run("short", func(t *testing.T) {
		defer func() {
			if s, _ := recover().(string); !strings.Contains(s, "kernels.SgemmBatched: c too short") {
				t.Errorf("panic %q, want c too short", s)
			}
		}()
		x := make([]float32, 100)
		SgemmBatched(false, false, 3, 4, 4, 4, 1, x, 4, 0, x, 4, 0, 0, make([]float32, 40), 4, 16)
	})
}

func clone32(s []float32) []float32 { return append([]float32(nil), s...) }

// TestSgemmConcurrent runs Sgemm from several goroutines at once (pooled
// jobs and pack buffers must not be shared between calls) and checks each
// result against the same call made alone.
func TestSgemmConcurrent(t *testing.T) {
	cases := []kerneltest.SgemmCase{
		{M: 70, N: 90, K: 300, Alpha: 1, Beta: 0},
		{M: 33, N: 200, K: 45, Alpha: 2, Beta: 1, TransA: true},
		{M: 150, N: 40, K: 129, Alpha: 1, Beta: 0.5, TransB: true},
		{M: 5, N: 700, K: 64, Alpha: -1, Beta: 0},
	}
	want := make([][]float32, len(cases))
	for i, tc := range cases {
		want[i] = runCase(tc)
	}
	errs := make(chan string, len(cases))
	done := make(chan struct{})
	for i, tc := range cases {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 10 {
				if got := runCase(tc); bitDiff(got, want[i]) >= 0 {
					errs <- fmt.Sprintf("%v: concurrent result differs from the result alone", tc)
					return
				}
			}
		}()
	}
	for range cases {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
