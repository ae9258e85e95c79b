package kernels

// packBlock is the number of k steps packTransposed transposes at a time:
// 16 floats, one cache line of each source row, so that the rows are read
// in lockstep (many cache misses in flight) and the block being written
// stays in L1.
const packBlock = 16

// packA packs alpha·op(A)[i0:i0+mcur, p0:p0+kcur] into kern.mr-row panels:
//
//	dst[q*mr*kcur + p*mr + r] = alpha·op(A)[i0+q*mr+r, p0+p]
//
// with rows past mcur zero, so that panel q is the a operand of a
// micro-kernel. op(A) is A (m×k, row stride lda) or, when transA, Aᵀ for A
// k×m.
func packA(dst []float32, transA bool, a []float32, lda, i0, mcur, p0, kcur int, alpha float32, kern *gemmKernel) {
	mr := kern.mr
	if transA {
		// Aᵀ is stored k×m: a panel is a run of mr floats of each row.
		kern.copyPanels(dst, a[p0*lda+i0:], lda, mcur, kcur, mr, 0, ceilDiv(mcur, mr), alpha)
		return
	}
	for ir := 0; ir < mcur; ir += mr {
		kern.transpose(dst[ir*kcur:(ir+mr)*kcur], a[(i0+ir)*lda+p0:], lda, min(mr, mcur-ir), kcur, mr, alpha)
	}
}

// packB packs panels [q0, q1) of alpha·op(B)[p0:p0+kcur, j0:j0+ncur],
// kern.nr columns each:
//
//	dst[q*nr*kcur + p*nr + c] = alpha·op(B)[p0+p, j0+q*nr+c]
//
// with columns past ncur zero, so that panel q is the b operand of a
// micro-kernel. op(B) is B (k×n, row stride ldb) or, when transB, Bᵀ for B
// n×k.
func packB(dst []float32, transB bool, b []float32, ldb, p0, kcur, j0, ncur, q0, q1 int, alpha float32, kern *gemmKernel) {
	nr := kern.nr
	if !transB {
		// B is stored k×n: a panel is a run of nr floats of each row.
		kern.copyPanels(dst, b[p0*ldb+j0:], ldb, ncur, kcur, nr, q0, q1, alpha)
		return
	}
	for q := q0; q < q1; q++ {
		jr := q * nr
		kern.transpose(dst[q*nr*kcur:(q+1)*nr*kcur], b[(j0+jr)*ldb+p0:], ldb, min(nr, ncur-jr), kcur, nr, alpha)
	}
}

// copyPanels copies panels [q0, q1) of a kcur×cols block of src (row
// stride ld), width columns each, scaled:
//
//	dst[q*width*kcur + p*width + c] = alpha·src[p*ld + q*width + c]
//
// with columns past cols zero. Rows are walked in order (sequential reads),
// each scattered over the panels.
func copyPanels(dst, src []float32, ld, cols, kcur, width, q0, q1 int, alpha float32) {
	for p := 0; p < kcur; p++ {
		row := src[p*ld:][:cols]
		for q := q0; q < q1; q++ {
			c0 := q * width
			n := min(width, cols-c0)
			dp := dst[q*width*kcur+p*width : q*width*kcur+p*width+width]
			s := row[c0 : c0+n]
			switch {
			case alpha != 1:
				for x, v := range s {
					dp[x] = alpha * v
				}
			// Fixed-size copies of the usual panel widths: no memmove call.
			case n == 32 && width == 32:
				*(*[32]float32)(dp) = [32]float32(s)
				continue
			case n == 16 && width == 16:
				*(*[16]float32)(dp) = [16]float32(s)
				continue
			case n == 14 && width == 14:
				*(*[14]float32)(dp) = [14]float32(s)
				continue
			case n == 6 && width == 6:
				*(*[6]float32)(dp) = [6]float32(s)
				continue
			default:
				copy(dp, s)
			}
			clear(dp[n:])
		}
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
