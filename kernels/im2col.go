package kernels

import "github.com/contrastive-ssl/contrastive/internal/parallel"

// im2col fills rows [r0, r1) of the convolution's column matrix into col,
// rows ld ≥ K apart (K = KH·KW·C), NHWC order:
//
//	x   [N, H, W, C]
//	col[(r−r0)·ld + (kh·KW + kw)·C + c] = x[n][oh·S−P+kh][ow·S−P+kw][c]   (0 outside x)
//
// where r = (n·OH + oh)·OW + ow. For one (row, kh) the KW input pixels are
// adjacent in x, so each is one contiguous copy of up to KW·C values.
func im2col(s Conv2dShape, x []float32, r0, r1 int, col []float32, ld int) {
	oh, ow, k := s.OutH(), s.OutW(), s.K()
	kwc := s.KW * s.C
	grain := max(1, 16384/max(k, 1))
	parallel.For(r1-r0, grain, func(lo, hi int) {
		for r := r0 + lo; r < r0+hi; r++ {
			dst := col[(r-r0)*ld : (r-r0)*ld+k]
			n := r / (oh * ow)
			q := r % (oh * ow)
			y0 := (q/ow)*s.Stride - s.Pad
			x0 := (q%ow)*s.Stride - s.Pad
			// valid kw range [kw0, kw1) for this output column
			kw0 := max(0, -x0)
			kw1 := min(s.KW, s.W-x0)
			img := x[n*s.H*s.W*s.C:]
			for kh := 0; kh < s.KH; kh++ {
				seg := dst[kh*kwc : (kh+1)*kwc]
				iy := y0 + kh
				if iy < 0 || iy >= s.H || kw0 >= kw1 {
					clear(seg)
					continue
				}
				clear(seg[:kw0*s.C])
				src := img[(iy*s.W+x0+kw0)*s.C : (iy*s.W+x0+kw1)*s.C]
				copy(seg[kw0*s.C:kw1*s.C], src)
				clear(seg[kw1*s.C:])
			}
		}
	})
}

// im2colPanels is im2col writing the column matrix as 32-column panels,
// the layout convGemm reads a B operand from fastest:
//
//	colP[(k/32)·R·32 + (r−r0)·32 + k%32] = col[r−r0][k]     R = r1 − r0
//
// (columns past K in the last panel are left untouched). Rows of a plain
// col are K·4 bytes apart, which for large K maps a tile's B slice onto a
// handful of L1 sets; a panel is one contiguous block.
func im2colPanels(s Conv2dShape, x []float32, r0, r1 int, colP []float32) {
	oh, ow, k := s.OutH(), s.OutW(), s.K()
	kwc := s.KW * s.C
	nr := r1 - r0
	grain := max(1, 16384/max(k, 1))
	// put copies src (nil: zeros) into columns [k0, k0+n) of row rr.
	put := func(rr, k0, n int, src []float32) {
		if useConvAVX512 && src != nil && k0%convNR == 0 && n >= convNR {
			full := n / convNR // whole panels in one call
			panelCopyAVX512(&colP[(k0/convNR*nr+rr)*convNR], &src[0], full, nr*convNR)
			k0, n, src = k0+full*convNR, n-full*convNR, src[full*convNR:]
		}
		for n > 0 {
			q, j := k0/convNR, k0%convNR
			m := min(n, convNR-j)
			d := colP[(q*nr+rr)*convNR+j : (q*nr+rr)*convNR+j+m]
			if src == nil {
				clear(d)
			} else {
				copy(d, src[:m])
				src = src[m:]
			}
			k0, n = k0+m, n-m
		}
	}
	parallel.For(nr, grain, func(lo, hi int) {
		for r := r0 + lo; r < r0+hi; r++ {
			rr := r - r0
			n := r / (oh * ow)
			q := r % (oh * ow)
			y0 := (q/ow)*s.Stride - s.Pad
			x0 := (q%ow)*s.Stride - s.Pad
			kw0 := max(0, -x0)
			kw1 := min(s.KW, s.W-x0)
			img := x[n*s.H*s.W*s.C:]
			for kh := 0; kh < s.KH; kh++ {
				base := kh * kwc
				iy := y0 + kh
				if iy < 0 || iy >= s.H || kw0 >= kw1 {
					put(rr, base, kwc, nil)
					continue
				}
				put(rr, base, kw0*s.C, nil)
				put(rr, base+kw0*s.C, (kw1-kw0)*s.C, img[(iy*s.W+x0+kw0)*s.C:(iy*s.W+x0+kw1)*s.C])
				put(rr, base+kw1*s.C, (s.KW-kw1)*s.C, nil)
			}
		}
	})
}

// col2im adds the column-matrix gradient of images [n0, n1) into dx:
//
//	dcol [(n1−n0)·OH·OW, ld]   rows as in im2col (ld ≥ K apart), relative to image n0
//	dx   [N, H, W, C]          dx[n][iy][ix][c] += Σ dcol[row][(kh·KW+kw)·C+c]
//
// over every (row, kh, kw) that im2col read x[n][iy][ix] into. It gathers
// per input pixel, so each element of dx is written by one worker only.
func col2im(s Conv2dShape, dcol []float32, ld, n0, n1 int, dx []float32) {
	oh, ow, c := s.OutH(), s.OutW(), s.C
	st, pad := s.Stride, s.Pad
	parallel.For((n1-n0)*s.H, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			nl, iy := t/s.H, t%s.H
			rowBase := nl * oh * ow
			dimg := dx[((n0+nl)*s.H+iy)*s.W*c:]
			for kh := 0; kh < s.KH; kh++ {
				ty := iy + pad - kh
				if ty < 0 || ty%st != 0 || ty/st >= oh {
					continue
				}
				orow := rowBase + (ty/st)*ow
				for ix := 0; ix < s.W; ix++ {
					d := dimg[ix*c : (ix+1)*c]
					for kw := 0; kw < s.KW; kw++ {
						tx := ix + pad - kw
						if tx < 0 || tx%st != 0 || tx/st >= ow {
							continue
						}
						off := (orow+tx/st)*ld + (kh*s.KW+kw)*c
						vecAcc(d, dcol[off:off+c])
					}
				}
			}
		}
	})
}
