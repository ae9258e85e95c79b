package kernels

// The register tile of the direct convolution kernels (convTileAVX512).
const (
	convMR = 14 // rows of a tile
	convNR = 32 // columns of a tile
)

// convTileArgs are the scalar arguments of a tile; conv_avx512_amd64.s
// reads them at fixed offsets, so the field order must not change.
//
//	kc          depth: number of p steps (may be 0)
//	rs, ps      A element (i, p) is a[i·rs + p·ps]
//	ldb         B element (p, j) is b[p·ldb + j]
//	ldc         C element (i, j) is c[i·ldc + j]
//	skip        rows i < skip are computed but not stored
//	mask        bit j set: column j is loaded and stored (j < 32)
//	accumulate  0: C = A·B; 1: C += A·B
type convTileArgs struct {
	kc, rs, ps, ldb, ldc int
	skip                 int
	mask                 uint64
	accumulate           int
}

// colMask returns the mask of the first n columns (n ≤ 32).
func colMask(n int) uint64 { return 1<<uint(n) - 1 }

// convTileGo is the reference loop of one mr×32 tile (mr ≤ 14):
//
//	for i := skip; i < mr; i++ {
//		for j := 0; j < 32; j++ {
//			if mask&(1<<j) == 0 {
//				continue
//			}
//			var acc float32
//			for p := 0; p < kc; p++ {
//				acc += a[i*rs+p*ps] * b[p*ldb+j]
//			}
//			if accumulate != 0 {
//				c[i*ldc+j] += acc
//			} else {
//				c[i*ldc+j] = acc
//			}
//		}
//	}
//
// All mr rows of A are read, whatever skip says.
func convTileGo(mr int, a, b, c []float32, t *convTileArgs) {
	var acc [convMR][convNR]float32
	for p := 0; p < t.kc; p++ {
		brow := b[p*t.ldb:]
		for i := 0; i < mr; i++ {
			av := a[i*t.rs+p*t.ps]
			for j := 0; j < convNR; j++ {
				if t.mask&(1<<uint(j)) != 0 {
					acc[i][j] += av * brow[j]
				}
			}
		}
	}
	for i := t.skip; i < mr; i++ {
		for j := 0; j < convNR; j++ {
			if t.mask&(1<<uint(j)) == 0 {
				continue
			}
			if t.accumulate != 0 {
				c[i*t.ldc+j] += acc[i][j]
			} else {
				c[i*t.ldc+j] = acc[i][j]
			}
		}
	}
}

// convTile runs one tile of mr rows (1 ≤ mr ≤ 14) with the assembly
// kernel when the CPU has one. The caller guarantees that every element
// the tile reads or writes is inside a, b and c.
func convTile(mr int, a, b, c []float32, t *convTileArgs) {
	if useConvAVX512 {
		convTileAVX512[mr](&a[0], &b[0], &c[0], t)
		return
	}
	convTileGo(mr, a, b, c, t)
}

// vecAcc adds src into dst element-wise: dst[i] += src[i] for i < len(dst).
// src must be at least as long as dst.
func vecAcc(dst, src []float32) {
	src = src[:len(dst)]
	if useConvAVX512 && len(dst) >= 16 {
		vecAccAVX512(&dst[0], &src[0], len(dst))
		return
	}
	for i := range dst {
		dst[i] += src[i]
	}
}
