package kernels

import "contrastive/internal/parallel"

// convKC is the depth of one pass of a tile over its operands: a kc×32
// slice of B (32 KiB) stays in L1 while the tiles of a worker's rows run
// over it.
var convKC = 256

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
// panels); each walks its tiles panel by panel and kc-slice by kc-slice so
// that the slice of B stays in L1. A ragged last row tile is moved up to
// end at row m and stores only its new rows, so every tile reads 14 rows
// of A in bounds; fewer than 14 rows in all go through a zero-padded copy.
// Ragged columns are masked.
func convGemm(m, n, k int, a []float32, rs, ps int, b []float32, bq, ldb int, c []float32, ldc int, accumulate bool) {
	if m == 0 || n == 0 {
		return
	}
	if m < convMR {
		convGemmSmall(m, n, k, a, rs, ps, b, bq, ldb, c, ldc, accumulate)
		return
	}
	mt, nt := convCeil(m, convMR), convCeil(n, convNR)
	tileFlops := 2 * convMR * convNR * max(k, 1)
	work := func(t0, t1, q0, q1 int) {
		args := convTileArgs{rs: rs, ps: ps, ldb: ldb, ldc: ldc}
		for q := q0; q < q1; q++ {
			j0 := q * convNR
			args.mask = colMask(min(convNR, n-j0))
			for p0 := 0; p0 == 0 || p0 < k; p0 += convKC {
				args.kc = min(convKC, k-p0)
				args.accumulate = convBool(accumulate || p0 > 0)
				for ti := t0; ti < t1; ti++ {
					i0 := ti * convMR
					args.skip = 0
					if i0+convMR > m {
						args.skip = i0 + convMR - m
						i0 = m - convMR
					}
					convTile(a[i0*rs+p0*ps:], b[q*bq+p0*ldb:], c[i0*ldc+j0:], &args)
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

// convGemmSmall is convGemm for m < 14: A is copied into a zero-padded
// 14-row block and each tile computed into a temporary.
func convGemmSmall(m, n, k int, a []float32, rs, ps int, b []float32, bq, ldb int, c []float32, ldc int, accumulate bool) {
	tmp := getConvTmp(convMR*max(k, 1) + convMR*convNR)
	defer convTmpPool.Put(tmp)
	pa, tile := (*tmp)[:convMR*max(k, 1)], (*tmp)[convMR*max(k, 1):]
	clear(pa)
	for i := 0; i < m; i++ {
		for p := 0; p < k; p++ {
			pa[i*k+p] = a[i*rs+p*ps]
		}
	}
	args := convTileArgs{kc: k, rs: max(k, 1), ps: 1, ldb: ldb, ldc: convNR}
	for q := 0; q*convNR < n; q++ {
		j0 := q * convNR
		nc := min(convNR, n-j0)
		args.mask = colMask(nc)
		convTile(pa, b[q*bq:], tile, &args)
		for i := 0; i < m; i++ {
			dst, src := c[i*ldc+j0:i*ldc+j0+nc], tile[i*convNR:i*convNR+nc]
			if accumulate {
				vecAcc(dst, src)
			} else {
				copy(dst, src)
			}
		}
	}
}
