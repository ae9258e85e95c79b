package kernels

// The tap-sum path of Conv3dForward and Conv3dBackward: a 3-D convolution
// is the sum over its temporal taps dt of 2-D convolutions,
//
//	y[n][ot] = Σ_dt conv2d(x[n][ot·St − Pt + dt], w[:, :, dt])
//
// so every input frame is unfolded once (im2col of the frame as an image
// of the 2-D convolution f = s.frame(), whose images are the N·T frames)
// and each tap is one GEMM against its own weights W_dt [C·KH·KW, OC]:
//
//	Y rows of output frames [o0, o1)  += Col rows of input frames [o0·St−Pt+dt, ...) · W_dt
//
// With StrideT = 1 the input frames a tap reads for consecutive output
// frames are consecutive, so one GEMM covers a whole block of frames (and
// clips, where they continue each other); with StrideT > 1 they are St
// frames apart, so a chunk of whole clips is unfolded in phase order
// (phasePos: by t mod St, then clip, then t / St), which makes them
// consecutive rows again. The backward passes mirror it per tap:
//
//	dW_dt += Col_blockᵀ · dY_block        dCol_block += dY_block · W_dtᵀ
//
// and dCol is folded back by one col2im per input frame. A 1×1 spatial
// kernel at stride 1 without padding (the temporal factor of R(2+1)D)
// needs no im2col at all at temporal stride 1: Col is x itself. Frames
// are unfolded in chunks of about f.imagesPerChunk() frames (tapChunk),
// which bounds the scratch.
//
// The packed weights are the taps' 2-D packings, one after the other:
// wk[j·L : (j+1)·L] = PackConvWeights(f, w[:, :, d0+j]), L =
// ConvPackedLen(f), for the used taps [d0, d1) (see taps); the weight
// gradient likewise holds one 2-D gradient of OC·C·KH·KW per used tap.

// conv3dForceTaps makes every shape take the tap-sum path (tests and
// benchmarks).
var conv3dForceTaps = false

// tapSum reports whether s runs on the tap-sum path: whenever it is more
// than one 2-D convolution over the frames (multiTap), or when forced.
//
// It replaced a temporal gather (the KT input frames of each output frame
// stacked along channels, one 2-D convolution over them, so every input
// frame was unfolded KT times), which it beat at one thread on every
// r3d_18 shape that gathered (README, "Conv3d against PyTorch"). A shape
// with one tap runs as the plain 2-D convolution, which needs no
// accumulation into the output; CONV3D_PATH_TIMES=1 go test -run
// PathTimes -v times both routes.
func (s Conv3dShape) tapSum() bool { return conv3dForceTaps || s.multiTap() }

// frame returns the 2-D convolution of one temporal tap over every input
// frame (N·T images).
func (s Conv3dShape) frame() Conv2dShape {
	return Conv2dShape{N: s.N * s.T, H: s.H, W: s.W, C: s.C, OC: s.OC, KH: s.KH, KW: s.KW, Stride: s.Stride, Pad: s.Pad}
}

// gemmShape returns the 2-D shape whose weight packing and GEMM kind the
// taps use: the frame convolution itself, except at temporal stride > 1
// on a map too small for the direct tiles (convSmallMap), where it is the
// same channels and kernel on a 9×9 output map, so that the taps run on
// the direct tiles over weights packed once, rather than on Sgemm, which
// repacks a tap's weights for every GEMM of a few rows (measured about
// 10% faster on r3d_18's layer3.0.conv1 and layer4.0.conv1 at one thread:
// CONV3D_PATH_TIMES=NAME go test -run PathTimes -v). Packing depends only
// on OC, C, KH, KW and the GEMM kind, so this is the layout the 2-D
// kernels use on large maps.
func (s Conv3dShape) gemmShape() Conv2dShape {
	f := s.frame()
	if s.StrideT == 1 || !convDirect || f.direct() {
		return f
	}
	return Conv2dShape{N: 1, H: f.KH + 8, W: f.KW + 8, C: f.C, OC: f.OC, KH: f.KH, KW: f.KW, Stride: 1}
}

// tapChunk returns how many frames one im2col chunk holds: any frames at
// temporal stride 1, whole clips (at least one) above it.
func (s Conv3dShape) tapChunk() int {
	c := s.frame().imagesPerChunk()
	if s.StrideT > 1 {
		c = max(1, c/s.T) * s.T
	}
	return c
}

// tapScratchLen returns the scratch length of the tap-sum path (forward
// and backward): one chunk of im2col rows.
func (s Conv3dShape) tapScratchLen() int {
	f := s.frame()
	_, ldc, _ := s.gemmShape().convScratchParts()
	return max(ConvScratchLen(f), s.tapChunk()*f.OutH()*f.OutW()*ldc)
}

// phasePos returns where frame t of clip n sits in a chunk of the whole
// clips [n0, n1) at temporal stride St > 1: frames are ordered by phase t
// mod St, then clip, then t / St. A tap reads frames of one phase, one
// St apart, for consecutive output frames, so in this order they are
// consecutive rows, and (where every clip uses the same frames) one block
// across clips.
func (s Conv3dShape) phasePos(n0, n1, n, t int) int {
	st := s.StrideT
	p := t % st
	start := 0
	for pp := 0; pp < p; pp++ {
		start += (s.T - pp + st - 1) / st
	}
	return start*(n1-n0) + (n-n0)*((s.T-p+st-1)/st) + t/st
}

// unfoldChunk writes the im2col rows of the frames [g0, g1) into col
// (rows ld apart): in frame order at temporal stride 1, in phasePos order
// above it.
func (s Conv3dShape) unfoldChunk(f Conv2dShape, x []float32, g0, g1 int, col []float32, ld int) {
	per := f.OutH() * f.OutW()
	if s.StrideT == 1 {
		im2col(f, x, g0*per, g1*per, col, ld)
		return
	}
	n0, n1 := g0/s.T, g1/s.T
	for g := g0; g < g1; g++ {
		pos := s.phasePos(n0, n1, g/s.T, g%s.T)
		im2col(f, x, g*per, (g+1)*per, col[pos*per*ld:], ld)
	}
}

// foldChunk adds the column gradient of the frames [g0, g1), laid out as
// unfoldChunk writes them, into dx.
func (s Conv3dShape) foldChunk(f Conv2dShape, dcol []float32, ld, g0, g1 int, dx []float32) {
	if s.StrideT == 1 {
		col2im(f, dcol, ld, g0, g1, dx)
		return
	}
	per := f.OutH() * f.OutW()
	n0, n1 := g0/s.T, g1/s.T
	for g := g0; g < g1; g++ {
		pos := s.phasePos(n0, n1, g/s.T, g%s.T)
		col2im(f, dcol[pos*per*ld:], ld, g, g+1, dx)
	}
}

// tapBlocks calls fn for the GEMMs of tap dt over the input frames [g0,
// g1) (global frame indices n·T + t, the rows of one im2col chunk): the
// first input frame's offset in the chunk (its rows start at that times
// OH·OW), the first output frame (global, n·OT + ot) and the number of
// frames. Blocks that continue each other in both the chunk and the
// output are merged, so at temporal stride 1 a tap that reads frame ot
// for output frame ot (the middle tap of a padded kernel) is one GEMM
// over the whole chunk, across clips. Above temporal stride 1 the chunk
// holds whole clips in phasePos order and offsets are positions in it.
func (s Conv3dShape) tapBlocks(g0, g1, dt int, fn func(ci, o, frames int)) {
	ot := s.OutT()
	pc, po, pf := 0, 0, 0 // pending block
	emit := func(ci, o, frames int) {
		if pf > 0 && ci == pc+pf && o == po+pf {
			pf += frames
			return
		}
		if pf > 0 {
			fn(pc, po, pf)
		}
		pc, po, pf = ci, o, frames
	}
	for n := g0 / s.T; n*s.T < g1; n++ {
		t0, t1 := max(g0, n*s.T)-n*s.T, min(g1, (n+1)*s.T)-n*s.T
		if s.StrideT == 1 {
			o0, o1 := max(0, t0+s.PadT-dt), min(ot, t1+s.PadT-dt)
			if o0 < o1 {
				emit(n*s.T+o0-s.PadT+dt-g0, n*ot+o0, o1-o0)
			}
			continue
		}
		// whole clips, phasePos order: output frames [o0, o1) read
		// t = o·St − Pt + dt in [0, T)
		st, a := s.StrideT, s.PadT-dt
		o0 := 0
		if a > 0 {
			o0 = (a + st - 1) / st
		}
		o1 := 0
		if s.T-1+a >= 0 {
			o1 = min(ot, (s.T-1+a)/st+1)
		}
		if o0 < o1 {
			emit(s.phasePos(g0/s.T, g1/s.T, n, o0*st-a), n*ot+o0, o1-o0)
		}
	}
	if pf > 0 {
		fn(pc, po, pf)
	}
}

// tapPackedLen returns the packed weight length on the tap-sum path.
func (s Conv3dShape) tapPackedLen() int {
	d0, d1 := s.taps()
	return (d1 - d0) * ConvPackedLen(s.gemmShape())
}

// tapWeightGradLen returns the packed weight-gradient length on the
// tap-sum path.
func (s Conv3dShape) tapWeightGradLen() int {
	d0, d1 := s.taps()
	return (d1 - d0) * ConvWeightGradLen(s.gemmShape())
}

// packConv3dTaps packs w [OC, C, KT, KH, KW] tap by tap.
func packConv3dTaps(s Conv3dShape, w, wk []float32) {
	f := s.gemmShape()
	kk := s.KH * s.KW
	d0, d1 := s.taps()
	l := ConvPackedLen(f)
	tmp := getConvTmp(s.OC * s.C * kk)
	defer convTmpPool.Put(tmp)
	wt := *tmp
	for j := 0; j < d1-d0; j++ {
		for oc := 0; oc < s.OC*s.C; oc++ {
			copy(wt[oc*kk:(oc+1)*kk], w[(oc*s.KT+d0+j)*kk:][:kk])
		}
		PackConvWeights(f, wt, wk[j*l:(j+1)*l])
	}
}

// unpackConv3dTapsGrad adds the tap-by-tap gradient dwk into dw.
func unpackConv3dTapsGrad(s Conv3dShape, dwk, dw []float32) {
	f := s.gemmShape()
	kk := s.KH * s.KW
	d0, d1 := s.taps()
	l := ConvWeightGradLen(f)
	tmp := getConvTmp(s.OC * s.C * kk)
	defer convTmpPool.Put(tmp)
	dwt := *tmp
	for j := 0; j < d1-d0; j++ {
		clear(dwt)
		UnpackConvWeightsGrad(f, dwk[j*l:(j+1)*l], dwt)
		for oc := 0; oc < s.OC*s.C; oc++ {
			vecAcc(dw[(oc*s.KT+d0+j)*kk:][:kk], dwt[oc*kk:(oc+1)*kk])
		}
	}
}

// conv3dTapsForward is Conv3dForward on the tap-sum path (bias excluded).
func conv3dTapsForward(s Conv3dShape, x, wk, y, scratch []float32) {
	f := s.frame()
	k, oc, per := f.K(), s.OC, f.OutH()*f.OutW()
	g := s.gemmShape()
	l := ConvPackedLen(g)
	// x itself is the column matrix of a pointwise convolution, in frame
	// order (at temporal stride 1 only: above it the rows are reordered)
	direct, pw := g.direct(), f.pointwise() && s.StrideT == 1
	_, ldc, _ := g.convScratchParts()
	d0, d1 := s.taps()
	clear(y[:s.Rows()*oc])
	chunk := s.tapChunk()
	for g0 := 0; g0 < s.N*s.T; g0 += chunk {
		g1 := min(g0+chunk, s.N*s.T)
		r0 := g0 * per
		col, ld := scratch, ldc
		if pw {
			col, ld = x[r0*k:], k
		} else {
			s.unfoldChunk(f, x, g0, g1, col, ld)
		}
		for j := 0; j < d1-d0; j++ {
			wkj := wk[j*l : (j+1)*l]
			s.tapBlocks(g0, g1, d0+j, func(ci, o, frames int) {
				a := col[ci*per*ld:]
				c := y[o*per*oc:]
				m := frames * per
				if direct {
					convGemm(m, oc, k, a, ld, 1, wkj, k*convNR, convNR, c, oc, true)
				} else {
					Sgemm(false, false, m, oc, k, 1, a, ld, wkj, oc, 1, c, oc)
				}
			})
		}
	}
}

// conv3dTapsBackward is Conv3dBackward on the tap-sum path.
func conv3dTapsBackward(s Conv3dShape, x, wk, dy, dx, dwk, scratch []float32) {
	f := s.frame()
	k, oc, per := f.K(), s.OC, f.OutH()*f.OutW()
	g := s.gemmShape()
	l, lg := ConvPackedLen(g), ConvWeightGradLen(g)
	// x itself is the column matrix of a pointwise convolution, in frame
	// order (at temporal stride 1 only: above it the rows are reordered)
	direct, pw := g.direct(), f.pointwise() && s.StrideT == 1
	_, ldc, _ := g.convScratchParts()
	d0, d1 := s.taps()
	chunk := s.tapChunk()
	for g0 := 0; g0 < s.N*s.T; g0 += chunk {
		g1 := min(g0+chunk, s.N*s.T)
		r0, r1 := g0*per, g1*per
		if dwk != nil {
			// col as plain rows (x itself, or im2col without the
			// direct tiles) or as 32-column panels (direct tiles)
			col, ld, panels := scratch, k, false
			switch {
			case pw:
				col = x[r0*k:]
			case direct && s.StrideT == 1:
				panels = true
				im2colPanels(f, x, r0, r1, col)
			case direct: // phasePos order, plain rows ldc apart
				ld = ldc
				s.unfoldChunk(f, x, g0, g1, col, ld)
			default:
				s.unfoldChunk(f, x, g0, g1, col, k)
			}
			for j := 0; j < d1-d0; j++ {
				dwj := dwk[j*lg : (j+1)*lg]
				s.tapBlocks(g0, g1, d0+j, func(ci, o, frames int) {
					m, rr := frames*per, ci*per
					dyc := dy[o*per*oc:]
					switch {
					case !direct:
						Sgemm(true, false, k, oc, m, 1, col[rr*ld:], ld, dyc, oc, 1, dwj, oc)
					case panels:
						convGemm(oc, k, m, dyc, 1, oc, col[rr*convNR:], (r1-r0)*convNR, convNR, dwj, k, true)
					default:
						convGemm(oc, k, m, dyc, 1, oc, col[rr*ld:], convNR, ld, dwj, k, true)
					}
				})
			}
		}
		if dx == nil {
			continue
		}
		dcol, ld := scratch, ldc
		if pw {
			dcol, ld = dx[r0*k:], k // a pointwise convolution's dcol is dx itself
		} else {
			clear(dcol[:(r1-r0)*ld])
		}
		for j := 0; j < d1-d0; j++ {
			wkj := wk[j*l : (j+1)*l]
			s.tapBlocks(g0, g1, d0+j, func(ci, o, frames int) {
				m := frames * per
				dyc, dc := dy[o*per*oc:], dcol[ci*per*ld:]
				if direct {
					convGemm(m, k, oc, dyc, oc, 1, wkj[convRound(oc, convNR)*k:], oc*convNR, convNR, dc, ld, true)
				} else {
					Sgemm(false, true, m, k, oc, 1, dyc, oc, wkj, oc, 1, dc, ld)
				}
			})
		}
		if !pw {
			s.foldChunk(f, dcol, ld, g0, g1, dx)
		}
	}
}
