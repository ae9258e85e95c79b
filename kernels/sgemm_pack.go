package kernels

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
		for r := 0; r < rows; r++ {
			src := a[(i0+ir+r)*lda+p0:][:kcur]
			dd := d[r:]
			if alpha == 1 {
				for p, v := range src {
					dd[p*mr] = v
				}
			} else {
				for p, v := range src {
					dd[p*mr] = alpha * v
				}
			}
		}
		if rows < mr {
			for p := 0; p < kcur; p++ {
				clear(d[p*mr+rows : p*mr+mr])
			}
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
// n×k.
func packB(dst []float32, transB bool, b []float32, ldb, p0, kcur, j0, ncur, q0, q1, nr int) {
	for q := q0; q < q1; q++ {
		jr := q * nr
		cols := min(nr, ncur-jr)
		d := dst[q*nr*kcur : (q+1)*nr*kcur]
		if !transB {
			for p := 0; p < kcur; p++ {
				dp := d[p*nr : p*nr+nr]
				copy(dp, b[(p0+p)*ldb+j0+jr:][:cols])
				clear(dp[cols:])
			}
			continue
		}
		for c := 0; c < cols; c++ {
			src := b[(j0+jr+c)*ldb+p0:][:kcur]
			dd := d[c:]
			for p, v := range src {
				dd[p*nr] = v
			}
		}
		if cols < nr {
			for p := 0; p < kcur; p++ {
				clear(d[p*nr+cols : p*nr+nr])
			}
		}
	}
}
