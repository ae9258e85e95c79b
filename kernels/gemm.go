package kernels

import "fmt"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices.
//
//	op(A) is m×k: A is m×k with row stride lda ≥ k, or k×m (transA) with lda ≥ m
//	op(B) is k×n: B is k×n with row stride ldb ≥ n, or n×k (transB) with ldb ≥ k
//	C is m×n with row stride ldc ≥ n
//
// With beta == 0, C is overwritten (NaNs in C do not propagate). Sgemm uses
// up to parallel.Workers() goroutines.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	bad := func(msg string) {
		panic(fmt.Sprintf("kernels.Sgemm: %s (transA=%v transB=%v m=%d n=%d k=%d lda=%d ldb=%d ldc=%d len(a)=%d len(b)=%d len(c)=%d)",
			msg, transA, transB, m, n, k, lda, ldb, ldc, la, lb, lc))
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
