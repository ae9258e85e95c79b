package kernels

import "github.com/contrastive-ssl/contrastive/internal/parallel"

// convKC is the depth of one pass of a tile over its operands: a kc×32
// slice of B (32 KiB) stays in L1 while the tiles of a worker's rows run
// over it.
var convKC = 256

// convMB is the number of row tiles whose kc-deep slice of A (up to
// 24·14·256 floats, 344 KiB) stays in L2 while every column panel of B
// passes over it.
var convMB = 24

// convGemmFlops is the work per goroutine below which convGemm does not
// split further.
const convGemmFlops = 1 << 21

// convGemm computes C (+)= A·B over operands read in place, 14×32 register
// tiles at a time:
//
//	A (i, p) = a[i·rs + p·ps]                    i < m, p < k
//	B (p, j) = b[(j/32)·bq + p·ldb + j%32]       j < n  (bq = 32: plain rows of stride ldb;
//	                                                     bq = k·32, ldb = 32: packed panels)
//	C (i, j) = c[i·ldc + j]                      overwritten, or += when accumulate
//
// The workers split the row tiles (or, when there are few, the column
// panels). Each takes its row tiles convMB at a time and, per kc-deep
// slice, runs every column panel over them: the slice of A stays in L2
// and each panel's kc×32 slice of B in L1 while it serves the block. The
// last row tile has m mod 14 rows (there is a kernel per row count) and
// ragged columns are masked, so nothing outside the operands is touched.
func convGemm(m, n, k int, a []float32, rs, ps int, b []float32, bq, ldb int, c []float32, ldc int, accumulate bool) {
	if m == 0 || n == 0 {
		return
	}
	mt, nt := convCeil(m, convMR), convCeil(n, convNR)
	tileFlops := 2 * convMR * convNR * max(k, 1)
	work := func(t0, t1, q0, q1 int) {
		args := convTileArgs{rs: rs, ps: ps, ldb: ldb, ldc: ldc}
		for tb := t0; tb < t1; tb += convMB {
			te := min(tb+convMB, t1)
			for p0 := 0; p0 == 0 || p0 < k; p0 += convKC {
				args.kc = min(convKC, k-p0)
				args.accumulate = convBool(accumulate || p0 > 0)
				for q := q0; q < q1; q++ {
					j0 := q * convNR
					args.mask = colMask(min(convNR, n-j0))
					for ti := tb; ti < te; ti++ {
						i0 := ti * convMR
						convTile(min(convMR, m-i0), a[i0*rs+p0*ps:], b[q*bq+p0*ldb:], c[i0*ldc+j0:], &args)
					}
				}
			}
		}
	}
	if w := parallel.Workers(); mt >= nt || mt >= 4*w {
		parallel.For(mt, max(1, convGemmFlops/(tileFlops*nt)), func(lo, hi int) { work(lo, hi, 0, nt) })
	} else {
		parallel.For(nt, max(1, convGemmFlops/(tileFlops*mt)), func(lo, hi int) { work(0, mt, lo, hi) })
	}
}
