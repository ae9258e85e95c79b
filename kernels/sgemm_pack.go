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
// k×m. transpose does the packing of A (it is packTransposed or an
// equivalent).
func packA(dst []float32, transA bool, a []float32, lda, i0, mcur, p0, kcur int, alpha float32, mr int,
	transpose func(d, src []float32, ld, rows, kcur, width int, alpha float32)) {
	if !transA {
		for ir := 0; ir < mcur; ir += mr {
			transpose(dst[ir*kcur:(ir+mr)*kcur], a[(i0+ir)*lda+p0:], lda, min(mr, mcur-ir), kcur, mr, alpha)
		}
		return
	}
	// Aᵀ is stored k×m: walk its rows (sequential reads), scattering each
	// over the panels.
	for p := 0; p < kcur; p++ {
		row := a[(p0+p)*lda+i0:][:mcur]
		for ir := 0; ir < mcur; ir += mr {
			rows := min(mr, mcur-ir)
			dp := dst[ir*kcur+p*mr : ir*kcur+p*mr+mr]
			src := row[ir : ir+rows]
			switch {
			case alpha == 1 && rows == 14 && mr == 14: // fixed-size copies: no memmove call
				*(*[14]float32)(dp) = [14]float32(src)
				continue
			case alpha == 1 && rows == 6 && mr == 6:
				*(*[6]float32)(dp) = [6]float32(src)
				continue
			case alpha == 1:
				copy(dp, src)
			default:
				for x, v := range src {
					dp[x] = alpha * v
				}
			}
			clear(dp[rows:])
		}
	}
}

// packB packs panels [q0, q1) of op(B)[p0:p0+kcur, j0:j0+ncur], nr columns
// each:
//
//	dst[q*nr*kcur + p*nr + c] = op(B)[p0+p, j0+q*nr+c]
//
// with columns past ncur zero, so that panel q is the b operand of a
// micro-kernel. op(B) is B (k×n, row stride ldb) or, when transB, Bᵀ for B
// n×k. transpose does the packing of Bᵀ (it is packTransposed or an
// equivalent).
func packB(dst []float32, transB bool, b []float32, ldb, p0, kcur, j0, ncur, q0, q1, nr int,
	transpose func(d, src []float32, ld, rows, kcur, width int, alpha float32)) {
	if !transB {
		// Walk B row by row (sequential reads), scattering each row over
		// the panels.
		for p := 0; p < kcur; p++ {
			row := b[(p0+p)*ldb+j0:][:ncur]
			for q := q0; q < q1; q++ {
				jr := q * nr
				cols := min(nr, ncur-jr)
				dp := dst[q*nr*kcur+p*nr : q*nr*kcur+p*nr+nr]
				switch {
				case cols == 32 && nr == 32: // fixed-size copies: no memmove call
					*(*[32]float32)(dp) = [32]float32(row[jr : jr+32])
				case cols == 16 && nr == 16:
					*(*[16]float32)(dp) = [16]float32(row[jr : jr+16])
				default:
					copy(dp, row[jr:jr+cols])
					clear(dp[cols:])
				}
			}
		}
		return
	}
	for q := q0; q < q1; q++ {
		jr := q * nr
		cols := min(nr, ncur-jr)
		transpose(dst[q*nr*kcur:(q+1)*nr*kcur], b[(j0+jr)*ldb+p0:], ldb, cols, kcur, nr, 1)
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
