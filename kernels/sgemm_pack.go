package kernels

// packBlock is the number of k steps packA and packB transpose at a time:
// 16 floats, one cache line of each source row, so that the rows are read
// in lockstep (many cache misses in flight) and the block being written
// stays in L1.
const packBlock = 16

// packA packs alpha·op(A)[i0:i0+mcur, p0:p0+kcur] into mr-row panels:
//
//	dst[q*mr*kcur + p*mr + r] = alpha·op(A)[i0+q*mr+r, p0+p]
//
// with rows past mcur zero, so that panel q is the a operand of a
// micro-kernel. op(A) is A (m×k, row stride lda) or, when transA, Aᵀ for A
// k×m.
func packA(dst []float32, transA bool, a []float32, lda, i0, mcur, p0, kcur int, alpha float32, mr int) {
	for ir := 0; ir < mcur; ir += mr {
		rows := min(mr, mcur-ir)
		d := dst[ir*kcur : (ir+mr)*kcur]
		if transA {
			for p := 0; p < kcur; p++ {
				src := a[(p0+p)*lda+i0+ir:][:rows]
				dp := d[p*mr : p*mr+mr]
				if alpha == 1 {
					copy(dp, src)
				} else {
					for x, v := range src {
						dp[x] = alpha * v
					}
				}
				clear(dp[rows:])
			}
			continue
		}
		packTransposed(d, a[(i0+ir)*lda+p0:], lda, rows, kcur, mr, alpha)
	}
}

// packB packs panels [q0, q1) of op(B)[p0:p0+kcur, j0:j0+ncur], nr columns
// each:
//
//	dst[q*nr*kcur + p*nr + c] = op(B)[p0+p, j0+q*nr+c]
//
// with columns past ncur zero, so that panel q is the b operand of a
// micro-kernel. op(B) is B (k×n, row stride ldb) or, when transB, Bᵀ for B
// n×k.
func packB(dst []float32, transB bool, b []float32, ldb, p0, kcur, j0, ncur, q0, q1, nr int) {
	if !transB {
		// Walk B row by row (sequential reads), scattering each row over
		// the panels.
		for p := 0; p < kcur; p++ {
			row := b[(p0+p)*ldb+j0:]
			for q := q0; q < q1; q++ {
				jr := q * nr
				cols := min(nr, ncur-jr)
				dp := dst[q*nr*kcur+p*nr : q*nr*kcur+p*nr+nr]
				copy(dp, row[jr:jr+cols])
				clear(dp[cols:])
			}
		}
		return
	}
	for q := q0; q < q1; q++ {
		jr := q * nr
		cols := min(nr, ncur-jr)
		packTransposed(dst[q*nr*kcur:(q+1)*nr*kcur], b[(j0+jr)*ldb+p0:], ldb, cols, kcur, nr, 1)
	}
}

// packTransposed writes the transpose of a rows×kcur block of src (row
// stride ld) into a kcur×width panel, zero past rows, scaled by alpha:
//
//	d[p*width + r] = alpha·src[r*ld + p]   (r < rows ≤ width, p < kcur)
func packTransposed(d, src []float32, ld, rows, kcur, width int, alpha float32) {
	d = d[:kcur*width]
	for p0 := 0; p0 < kcur; p0 += packBlock {
		pn := min(packBlock, kcur-p0)
		blk := d[p0*width : (p0+pn)*width]
		for r := 0; r < rows; r++ {
			s := src[r*ld+p0 : r*ld+p0+pn]
			if alpha == 1 {
				for p, v := range s {
					blk[p*width+r] = v
				}
			} else {
				for p, v := range s {
					blk[p*width+r] = alpha * v
				}
			}
		}
		if rows < width {
			for p := range pn {
				clear(blk[p*width+rows : p*width+width])
			}
		}
	}
}
