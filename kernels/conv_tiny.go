package kernels

import "github.com/contrastive-ssl/contrastive/internal/parallel"

// Tiny maps. On a 2×2 map a 3×3 convolution with padding 1 finds only 4
// of its 9 taps inside the image at every output position, so im2col's
// rows are 5/9 zeros and so is that share of the GEMM's arithmetic (on a
// 4×4 map, 31%). The tiny path groups the output positions by the range
// of taps that fall inside the image — per axis a contiguous range, so
// a class is a rectangle of taps — and runs one GEMM per class over the
// valid taps only:
//
//	A_c [N·|P_c|, K_c]   the input pixels under the class's taps (gathered)
//	B_c [K_c, OC]        the HWIO weight rows of those taps (gathered)
//	Y[rows of c] = A_c·B_c;  dA_c = dY_c·B_cᵀ (scattered into dx);  dB_c = A_cᵀ·dY_c
//
// with K_c = |taps_c|·C. Every multiply-add it does is one of the
// convolution's, so it costs (valid taps)/(KH·KW) of the im2col GEMMs,
// plus gathers of the small maps and of the weights (once per class).

// convTinyMap is the largest input map (H·W) the tiny path takes.
const convTinyMap = 16

// tiny reports whether s runs on the tiny-map path: a spatial kernel on an
// input of at most 4×4 pixels, with the HWIO weights of the im2col + Sgemm
// path (the direct path is never chosen for such maps but by tests).
func (s Conv2dShape) tiny() bool {
	return convTiny && !s.direct() && s.KH*s.KW > 1 && s.H*s.W <= convTinyMap
}

// convTiny switches the tiny-map path on (tests compare it with im2col).
var convTiny = true

// tapClass is one class of output positions along an axis: the outputs
// outs whose valid taps are [lo, hi).
type tapClass struct {
	lo, hi int
	outs   []int
}

// axisClasses groups the n outputs of an axis of input length in (kernel
// k, stride, padding) by their range of valid taps.
func axisClasses(in, out, k, stride, pad int) []tapClass {
	var cs []tapClass
	for o := 0; o < out; o++ {
		lo := max(0, pad-o*stride)
		hi := min(k, in+pad-o*stride)
		found := false
		for i := range cs {
			if cs[i].lo == lo && cs[i].hi == hi {
				cs[i].outs = append(cs[i].outs, o)
				found = true
				break
			}
		}
		if !found && hi > lo {
			cs = append(cs, tapClass{lo: lo, hi: hi, outs: []int{o}})
		}
	}
	return cs
}

// tinyClass is a class of output positions of the map: rows × columns of
// tapClass.
type tinyClass struct {
	r, c tapClass
}

func (t tinyClass) positions() int { return len(t.r.outs) * len(t.c.outs) }
func (t tinyClass) taps() int      { return (t.r.hi - t.r.lo) * (t.c.hi - t.c.lo) }

func (s Conv2dShape) tinyClasses() []tinyClass {
	var out []tinyClass
	for _, r := range axisClasses(s.H, s.OutH(), s.KH, s.Stride, s.Pad) {
		for _, c := range axisClasses(s.W, s.OutW(), s.KW, s.Stride, s.Pad) {
			out = append(out, tinyClass{r, c})
		}
	}
	return out
}

// tinyRow returns the output row index (n, oy, ox) of the class's i-th
// row: rows run over images, then the class's rows, then its columns.
func (s Conv2dShape) tinyRow(t tinyClass, i int) (n, oy, ox int) {
	per := t.positions()
	n, q := i/per, i%per
	return n, t.r.outs[q/len(t.c.outs)], t.c.outs[q%len(t.c.outs)]
}

// tinyGatherA fills a [rows, K_c] with the input pixels under the class's
// taps, or (scatter) adds a into dx at those pixels.
func (s Conv2dShape) tinyGatherA(t tinyClass, x, a []float32, scatter bool) {
	kc := t.taps() * s.C
	nkw := t.c.hi - t.c.lo
	run := nkw * s.C
	rows := s.N * t.positions()
	per := t.positions()
	img := s.H * s.W * s.C
	// Scattering adds into shared pixels: split by image, not by row.
	parallel.For(s.N, max(1, 4096/max(per*kc, 1)), func(lo, hi int) {
		for i := lo * per; i < min(hi*per, rows); i++ {
			n, oy, ox := s.tinyRow(t, i)
			ix0 := ox*s.Stride - s.Pad + t.c.lo
			for j, kh := 0, t.r.lo; kh < t.r.hi; j, kh = j+1, kh+1 {
				iy := oy*s.Stride - s.Pad + kh
				src := x[n*img+(iy*s.W+ix0)*s.C:][:run]
				dst := a[i*kc+j*run:][:run]
				if scatter {
					vecAcc(src, dst)
				} else {
					copy(dst, src)
				}
			}
		}
	})
}

// tinyGatherB copies the HWIO weight rows of the class's taps into b
// [K_c, OC], or (scatter) adds b into dwk at those rows.
func (s Conv2dShape) tinyGatherB(t tinyClass, wk, b []float32, scatter bool) {
	nkw := t.c.hi - t.c.lo
	blk := nkw * s.C * s.OC // one kh: nkw taps of C rows, contiguous in HWIO
	for j, kh := 0, t.r.lo; kh < t.r.hi; j, kh = j+1, kh+1 {
		w := wk[(kh*s.KW+t.c.lo)*s.C*s.OC:][:blk]
		if scatter {
			vecAccPar(w, b[j*blk:][:blk])
		} else {
			copy(b[j*blk:][:blk], w)
		}
	}
}

// vecAccPar is vecAcc over workers.
func vecAccPar(dst, src []float32) {
	parallel.For(len(dst), 1<<14, func(lo, hi int) { vecAcc(dst[lo:hi], src[lo:hi]) })
}

// tinyRows copies the class's rows of y [N·OH·OW, OC] to or from the
// compact t [rows, OC] (toCompact: y → t; else t → y).
func (s Conv2dShape) tinyRows(t tinyClass, y, c []float32, toCompact bool) {
	oh, ow, oc := s.OutH(), s.OutW(), s.OC
	rows := s.N * t.positions()
	for i := 0; i < rows; i++ {
		n, oy, ox := s.tinyRow(t, i)
		r := (n*oh+oy)*ow + ox
		if toCompact {
			copy(c[i*oc:(i+1)*oc], y[r*oc:(r+1)*oc])
		} else {
			copy(y[r*oc:(r+1)*oc], c[i*oc:(i+1)*oc])
		}
	}
}

// tinyBufs returns pooled buffers for the largest class: A, B and the
// compact output.
func (s Conv2dShape) tinyBufs(cls []tinyClass) (a, b, c *[]float32) {
	var na, nb, nc int
	for _, t := range cls {
		rows := s.N * t.positions()
		na = max(na, rows*t.taps()*s.C)
		nb = max(nb, t.taps()*s.C*s.OC)
		nc = max(nc, rows*s.OC)
	}
	return getConvTmp(na), getConvTmp(nb), getConvTmp(nc)
}

func putConvTmp(ps ...*[]float32) {
	for _, p := range ps {
		convTmpPool.Put(p)
	}
}

// conv2dTinyForward computes y = conv(x, w) (y overwritten, or += when
// accumulate) on the tiny path; wk is HWIO [K, OC].
func conv2dTinyForward(s Conv2dShape, x, wk, y []float32, accumulate bool) {
	cls := s.tinyClasses()
	pa, pb, pc := s.tinyBufs(cls)
	defer putConvTmp(pa, pb, pc)
	covered := 0
	for _, t := range cls {
		covered += t.positions()
	}
	if !accumulate && covered < s.OutH()*s.OutW() {
		clear(y[:s.Rows()*s.OC]) // positions with no tap inside the image (Pad ≥ K) are 0
	}
	for _, t := range cls {
		rows, kc := s.N*t.positions(), t.taps()*s.C
		a, b, c := (*pa)[:rows*kc], (*pb)[:kc*s.OC], (*pc)[:rows*s.OC]
		s.tinyGatherA(t, x, a, false)
		s.tinyGatherB(t, wk, b, false)
		beta := float32(0)
		if accumulate {
			s.tinyRows(t, y, c, true)
			beta = 1
		}
		Sgemm(false, false, rows, s.OC, kc, 1, a, kc, b, s.OC, beta, c, s.OC)
		s.tinyRows(t, y, c, false)
	}
}

// conv2dTinyBackward accumulates dx (when not nil) and the HWIO weight
// gradient dwk (when not nil) on the tiny path.
func conv2dTinyBackward(s Conv2dShape, x, wk, dy, dx, dwk []float32) {
	cls := s.tinyClasses()
	pa, pb, pc := s.tinyBufs(cls)
	defer putConvTmp(pa, pb, pc)
	for _, t := range cls {
		rows, kc := s.N*t.positions(), t.taps()*s.C
		a, b, c := (*pa)[:rows*kc], (*pb)[:kc*s.OC], (*pc)[:rows*s.OC]
		s.tinyRows(t, dy, c, true) // dY_c
		if dwk != nil {
			s.tinyGatherA(t, x, a, false)
			Sgemm(true, false, kc, s.OC, rows, 1, a, kc, c, s.OC, 0, b, s.OC) // dB_c = A_cᵀ·dY_c
			s.tinyGatherB(t, dwk, b, true)
		}
		if dx != nil {
			s.tinyGatherB(t, wk, b, false)
			Sgemm(false, true, rows, kc, s.OC, 1, c, s.OC, b, s.OC, 0, a, kc) // dA_c = dY_c·B_cᵀ
			s.tinyGatherA(t, dx, a, true)
		}
	}
}
