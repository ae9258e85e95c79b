package kernels

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices.
//
//	op(A) is m×k: A is m×k with row stride lda ≥ k, or k×m (transA) with lda ≥ m
//	op(B) is k×n: B is k×n with row stride ldb ≥ n, or n×k (transB) with ldb ≥ k
//	C is m×n with row stride ldc ≥ n
//
// With beta == 0, C is overwritten (NaNs in C do not propagate); with
// alpha == 0 or k == 0, A and B are not read. C must not overlap A or B.
//
// Sgemm packs its operands into cache-sized panels and runs a
// register-blocked micro-kernel (AVX-512, AVX2+FMA or pure Go: see Impl).
// It uses up to parallel.Workers() goroutines, fewer for small products;
// after warm-up it allocates nothing itself (parallel.For may, to start
// its goroutines).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm("kernels.Sgemm", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	sgemm(parallel.Workers(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmBatched computes batch independent products with the layout of
// Sgemm:
//
//	C_i = alpha·op(A_i)·op(B_i) + beta·C_i,   0 ≤ i < batch
//	A_i = a[i*strideA:], B_i = b[i*strideB:], C_i = c[i*strideC:]
//
// A stride of 0 shares one A or B across the batch (the same weights for
// every sample, say); the C_i must not overlap (strideC ≥ (m-1)·ldc + n
// when batch > 1). Products too small to use every worker run one per
// worker, each on a single goroutine; larger ones run one after another,
// each on all workers. The result does not depend on the split.
func SgemmBatched(transA, transB bool, batch, m, n, k int, alpha float32,
	a []float32, lda, strideA int, b []float32, ldb, strideB int,
	beta float32, c []float32, ldc, strideC int) {
	const op = "kernels.SgemmBatched"
	if batch < 0 || strideA < 0 || strideB < 0 || strideC < 0 {
		panic(fmt.Sprintf("%s: negative batch or stride (batch=%d strideA=%d strideB=%d strideC=%d)", op, batch, strideA, strideB, strideC))
	}
	if batch == 0 {
		return
	}
	if batch > 1 && m > 0 && n > 0 && strideC < (m-1)*ldc+n {
		panic(fmt.Sprintf("%s: strideC=%d < (m-1)·ldc+n = %d: the C matrices overlap", op, strideC, (m-1)*ldc+n))
	}
	last := batch - 1
	// Check every matrix by checking the last one against what is left
	// of each slice.
	tail := func(s []float32, stride int) int { return max(len(s)-last*stride, -1) }
	la, lb, lc := tail(a, strideA), tail(b, strideB), tail(c, strideC)
	checkGemm(op, transA, transB, m, n, k, la, lda, lb, ldb, lc, ldc)
	if m == 0 || n == 0 {
		return
	}
	workers := parallel.Workers()
	item := func(i, threads int) {
		sgemm(threads, transA, transB, m, n, k, alpha, a[i*strideA:], lda, b[i*strideB:], ldb, beta, c[i*strideC:], ldc)
	}
	if workers == 1 || batch == 1 || gemmThreads(workers, m, n, k) == workers {
		for i := range batch {
			item(i, workers)
		}
		return
	}
	parallel.For(batch, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			item(i, 1)
		}
	})
}

func checkGemm(op string, transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	bad := func(msg string) {
		panic(fmt.Sprintf("%s: %s (transA=%v transB=%v m=%d n=%d k=%d lda=%d ldb=%d ldc=%d len(a)=%d len(b)=%d len(c)=%d)",
			op, msg, transA, transB, m, n, k, lda, ldb, ldc, la, lb, lc))
	}
	if m < 0 || n < 0 || k < 0 {
		bad("negative size")
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(ac, 1) {
		bad("lda too small")
	}
	if ldb < max(bc, 1) {
		bad("ldb too small")
	}
	if ldc < max(n, 1) {
		bad("ldc too small")
	}
	if ar > 0 && ac > 0 && la < (ar-1)*lda+ac {
		bad("a too short")
	}
	if br > 0 && bc > 0 && lb < (br-1)*ldb+bc {
		bad("b too short")
	}
	if m > 0 && n > 0 && lc < (m-1)*ldc+n {
		bad("c too short")
	}
}
