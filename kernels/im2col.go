package kernels

import "contrastive/internal/parallel"

// im2col fills rows [r0, r1) of the convolution's column matrix into col
// ((r1−r0)·K values, K = KH·KW·C), NHWC order:
//
//	x   [N, H, W, C]
//	col[r−r0][(kh·KW + kw)·C + c] = x[n][oh·S−P+kh][ow·S−P+kw][c]   (0 outside x)
//
// where r = (n·OH + oh)·OW + ow. For one (row, kh) the KW input pixels are
// adjacent in x, so each is one contiguous copy of up to KW·C values.
func im2col(s Conv2dShape, x []float32, r0, r1 int, col []float32) {
	oh, ow, k := s.OutH(), s.OutW(), s.K()
	kwc := s.KW * s.C
	grain := max(1, 16384/max(k, 1))
	parallel.For(r1-r0, grain, func(lo, hi int) {
		for r := r0 + lo; r < r0+hi; r++ {
			dst := col[(r-r0)*k : (r-r0+1)*k]
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

// col2im adds the column-matrix gradient of images [n0, n1) into dx:
//
//	dcol [(n1−n0)·OH·OW, KH·KW·C]   rows as in im2col, relative to image n0
//	dx   [N, H, W, C]               dx[n][iy][ix][c] += Σ dcol[row][(kh·KW+kw)·C+c]
//
// over every (row, kh, kw) that im2col read x[n][iy][ix] into. It gathers
// per input pixel, so each element of dx is written by one worker only.
func col2im(s Conv2dShape, dcol []float32, n0, n1 int, dx []float32) {
	oh, ow, k, c := s.OutH(), s.OutW(), s.K(), s.C
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
						off := (orow+tx/st)*k + (kh*s.KW+kw)*c
						vecAcc(d, dcol[off:off+c])
					}
				}
			}
		}
	})
}
