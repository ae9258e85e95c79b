package kernels

//go:generate sh -c "cd _asm && go run . -out .."

import (
	"sync"
	"sync/atomic"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// gemmKernel is one register-blocked micro-kernel together with the cache
// blocking the driver uses around it.
type gemmKernel struct {
	name   string
	mr, nr int // tile rows (height of a packed A panel) and columns (width of a B panel)
	kc     int // depth of a packed block (k is cut into equal blocks of at most kc)
	mc     int // rows of A packed per block, a multiple of mr: the mc×kc block stays in L2
	nc     int // columns of B packed per panel, a multiple of nr: the kc×nc panel stays in L3
	// micro computes the mr×nr tile
	//	C[i*ldc+j] (+)= Σ_p a[p*mr+i]·b[p*nr+j],  p < kc
	// overwriting C (C is not read) unless accumulate. kc ≥ 1; a and b are
	// packed panels; c holds mr rows of nr floats with row stride ldc.
	micro func(kc int, a, b, c []float32, ldc int, accumulate bool)
	// microStrideA, if not nil, is micro with A read in place from a
	// transposed operand: step p's mr values are a[p*lda : p*lda+mr].
	microStrideA func(kc int, a []float32, lda int, b, c []float32, ldc int, accumulate bool)
	// transpose is packTransposed or a faster equivalent: the packing of
	// operands whose panels run across rows (A not transposed, B transposed).
	transpose func(d, src []float32, ld, rows, kcur, width int, alpha float32)
	// copyPanels is copyPanels or a faster equivalent: the packing of
	// operands whose panels run along rows (A transposed, B not transposed).
	copyPanels func(dst, src []float32, ld, cols, kcur, width, q0, q1 int, alpha float32)
}

// directAPanels is the largest number of B panels (nr columns each) for
// which a transposed A is read in place by kern.microStrideA rather than
// packed: packing A costs a pass over m·k floats, which pays off only when
// each packed panel serves enough B panels. (The weight gradient of a
// convolution, Aᵀ·B with k = N·H·W and n = output channels, is such a
// product.)
const directAPanels = 4

// parallelFlops is the work (2·m·n·k) below which Sgemm stays on the calling
// goroutine; each additional worker needs another parallelFlops of work.
const parallelFlops = 2 << 20

// gemmThreads is how many of maxThreads workers an m×n×k product gets.
func gemmThreads(maxThreads, m, n, k int) int {
	flops := 2 * float64(m) * float64(n) * float64(k) // float64: no overflow on 32-bit ints
	return max(1, min(maxThreads, int(min(flops/parallelFlops, 1<<20))))
}

// gemmJob carries one Sgemm call through the blocked loops. Jobs are pooled
// with their packed-B buffer and their bound worker method, so that a call
// allocates nothing after warm-up (apart from what parallel.For allocates
// to start its goroutines).
type gemmJob struct {
	kern           *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int

	kcEff, mcEff, ncEff int // block sizes for this call (k, n split evenly)

	// the current (jc, pc) block
	jc, ncur, pc, kcur int
	accumulate         bool
	splitN             bool // workers split the B panel's columns instead of A's rows
	directA            bool // full A panels are read in place (kern.microStrideA); alpha goes into B

	bp []float32 // packed B panel, kcEff × roundUp(ncEff, nr), shared by the workers

	// the current parallel phase: workers take chunks of [0, units) from
	// next until none is left
	phase    gemmPhase
	units    int
	maxChunk int
	threads  int
	next     atomic.Int64
	workerFn func(lo, hi int) // j.worker, bound once
}

// gemmPhase is one parallel step of sgemmPacked.
type gemmPhase uint8

const (
	phaseScale gemmPhase = iota // units: rows of C to scale by beta
	phasePackB                  // units: nr-wide panels of the B block to pack
	phaseMacro                  // units: mr-high panels of A (or, if splitN, nr-wide panels of B) to multiply
)

var jobPool = sync.Pool{New: func() any {
	j := new(gemmJob)
	j.workerFn = j.worker
	return j
}}

// packScratch is one worker's packed A block and edge tile.
type packScratch struct{ a, tile []float32 }

var scratchPool sync.Pool

func getScratch(na, ntile int) *packScratch {
	s, _ := scratchPool.Get().(*packScratch)
	if s == nil {
		s = new(packScratch)
	}
	s.a = grow(s.a, na)
	s.tile = grow(s.tile, ntile)
	return s
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// sgemmPacked computes C = alpha·op(A)·op(B) + beta·C (see Sgemm) with the
// Goto/BLIS loop nest around kern.micro:
//
//	for jc over n, nc columns at a time:
//	  for pc over k, kc at a time:
//	    pack B[pc:pc+kc, jc:jc+nc] into nr-wide panels         (shared, L3)
//	    for ic over m, mc rows at a time (split among workers):
//	      pack alpha·A[ic:ic+mc, pc:pc+kc] into mr-high panels  (per worker, L2)
//	      for jr over the B panel, nr columns at a time:       (kc×nr of B, L1/L2)
//	        for ir over the A block, mr rows at a time:
//	          micro-kernel on C[ic+ir:+mr, jc+jr:+nr]
//
// The block sizes come from kern, with k and n cut into equal blocks
// (k = 1100 with kc = 1024 gives two blocks of 550, not 1024 + 76). A
// large kc (1024 for AVX-512, measured best on Zen 5) keeps the number of
// read-modify-write passes over C small; the B micro-panel then lives in
// L2 rather than L1, which the micro-kernel tolerates.
//
// Workers take chunks of A's rows (each packing its own A blocks) as they
// become free (see run); when A has too few rows to go round, they take
// columns of the B panel instead, and each packs all of A. A transposed A
// that serves few B panels is not packed but read in place (see
// directAPanels). beta is applied to
// C up front unless it is 0 (the first k block then overwrites C, so NaNs in
// C do not propagate) or 1. Edge tiles go through a small temporary tile.
// It uses up to maxThreads workers (fewer for small products). Arguments
// are trusted (Sgemm checks them).
func sgemmPacked(kern *gemmKernel, maxThreads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	threads := gemmThreads(maxThreads, m, n, k)
	j := jobPool.Get().(*gemmJob)
	j.kern, j.transA, j.transB, j.m, j.n, j.k = kern, transA, transB, m, n, k
	j.alpha, j.beta, j.a, j.b, j.c, j.lda, j.ldb, j.ldc = alpha, beta, a, b, c, lda, ldb, ldc
	j.threads = threads
	defer func() {
		j.a, j.b, j.c = nil, nil, nil // do not keep the caller's memory alive
		jobPool.Put(j)
	}()

	if k == 0 || alpha == 0 || (beta != 0 && beta != 1) {
		j.run(phaseScale, m, max(1, (1<<16)/n))
		if k == 0 || alpha == 0 {
			return
		}
		j.beta = 1
	}

	mr, nr := kern.mr, kern.nr
	j.kcEff = ceilDiv(k, ceilDiv(k, kern.kc))
	j.ncEff = roundUp(ceilDiv(n, ceilDiv(n, kern.nc)), nr)
	j.mcEff = kern.mc
	j.bp = grow(j.bp, j.kcEff*j.ncEff)

	mPanels := ceilDiv(m, mr)
	for jc := 0; jc < n; jc += j.ncEff {
		j.jc, j.ncur = jc, min(j.ncEff, n-jc)
		nPanels := ceilDiv(j.ncur, nr)
		// Workers take rows of A (each packing its own A blocks) unless A
		// has too few row panels to go round; then they take columns of the
		// B panel, and each packs all of A.
		units, chunk := mPanels, j.mcEff/mr
		j.directA = transA && kern.microStrideA != nil && nPanels <= directAPanels
		j.splitN = threads > 1 && mPanels < 4*threads && nPanels > mPanels
		if j.splitN {
			units, chunk = nPanels, nPanels
		}
		for pc := 0; pc < k; pc += j.kcEff {
			j.pc, j.kcur = pc, min(j.kcEff, k-pc)
			j.accumulate = pc > 0 || j.beta != 0
			j.run(phasePackB, nPanels, 8)
			j.run(phaseMacro, units, chunk)
		}
	}
}

// run does one phase over units on j.threads workers. The work is handed
// out dynamically (guided scheduling): each worker takes a chunk of up to
// maxChunk units, shrinking as the work runs out, so that a worker slowed
// by other load on its core takes fewer chunks instead of holding up the
// others. Which worker computes a unit does not change its arithmetic.
func (j *gemmJob) run(phase gemmPhase, units, maxChunk int) {
	j.phase, j.units, j.maxChunk = phase, units, max(1, maxChunk)
	j.next.Store(0)
	if j.threads <= 1 || units <= 1 {
		j.worker(0, 1)
		return
	}
	parallel.For(min(j.threads, units), 1, j.workerFn)
}

// grab takes the next chunk of units, or reports there is none left.
func (j *gemmJob) grab() (lo, hi int, ok bool) {
	for {
		u := j.next.Load()
		left := j.units - int(u)
		if left <= 0 {
			return 0, 0, false
		}
		size := max(1, min(j.maxChunk, left/(2*j.threads)))
		if j.next.CompareAndSwap(u, u+int64(size)) {
			return int(u), int(u) + size, true
		}
	}
}

// worker is one worker of the current phase (its arguments, from
// parallel.For, are ignored: it takes chunks until none is left).
func (j *gemmJob) worker(_, _ int) {
	if j.phase != phaseMacro {
		for {
			lo, hi, ok := j.grab()
			if !ok {
				return
			}
			if j.phase == phaseScale {
				j.scaleRows(lo, hi)
			} else {
				alpha := float32(1)
				if j.directA {
					alpha = j.alpha
				}
				packB(j.bp, j.transB, j.b, j.ldb, j.pc, j.kcur, j.jc, j.ncur, lo, hi, alpha, j.kern)
			}
		}
	}
	mr, nr := j.kern.mr, j.kern.nr
	rowsA := j.mcEff // the most rows of A a worker packs at once
	if j.splitN {
		rowsA = j.m
	}
	s := getScratch(roundUp(rowsA, mr)*j.kcur, mr*nr)
	defer scratchPool.Put(s)
	packed := false // splitN: all of A is in s.a
	for {
		lo, hi, ok := j.grab()
		if !ok {
			return
		}
		i0, i1, q0, q1 := lo*mr, min(hi*mr, j.m), 0, ceilDiv(j.ncur, nr)
		if j.splitN {
			i0, i1, q0, q1 = 0, j.m, lo, hi
		}
		if !packed || !j.splitN {
			j.packABlock(s, i0, i1)
			packed = true
		}
		j.macro(s, i0, i1, q0, q1)
	}
}

// packABlock packs rows [i0, i1) of op(A)'s current k block into s.a for
// macro: all of them, or with directA only a partial last panel (at s.a[0:]),
// the full panels being read in place.
func (j *gemmJob) packABlock(s *packScratch, i0, i1 int) {
	if !j.directA {
		packA(s.a, j.transA, j.a, j.lda, i0, i1-i0, j.pc, j.kcur, j.alpha, j.kern)
		return
	}
	mr := j.kern.mr
	if full := (i1 - i0) / mr * mr; full < i1-i0 {
		packA(s.a, true, j.a, j.lda, i0+full, i1-i0-full, j.pc, j.kcur, 1, j.kern)
	}
}

// scaleRows applies beta to rows [lo, hi) of C (beta == 0 clears them).
func (j *gemmJob) scaleRows(lo, hi int) {
	for i := lo; i < hi; i++ {
		row := j.c[i*j.ldc : i*j.ldc+j.n]
		if j.beta == 0 {
			clear(row)
			continue
		}
		for x := range row {
			row[x] *= j.beta
		}
	}
}

// macro multiplies rows [i0, i1) of op(A)'s current k block by the B
// panels [q0, q1) of the current block into C. A comes packed in s.a (see
// packABlock) or, with directA, in place.
func (j *gemmJob) macro(s *packScratch, i0, i1, q0, q1 int) {
	mr, nr, kcur := j.kern.mr, j.kern.nr, j.kcur
	if !j.directA {
		for q := q0; q < q1; q++ {
			bp := j.bp[q*nr*kcur : (q+1)*nr*kcur]
			for ir := 0; ir < i1-i0; ir += mr {
				j.tile(s, s.a[ir*kcur:(ir+mr)*kcur], false, bp, i0+ir, q)
			}
		}
		return
	}
	// A panels outer: each, read in place, serves every B panel while it is
	// in cache.
	for ir := 0; ir < i1-i0; ir += mr {
		ap, direct := j.a[j.pc*j.lda+i0+ir:], true
		if i1-i0-ir < mr {
			ap, direct = s.a[:mr*kcur], false
		}
		for q := q0; q < q1; q++ {
			j.tile(s, ap, direct, j.bp[q*nr*kcur:(q+1)*nr*kcur], i0+ir, q)
		}
	}
}

// tile runs the micro-kernel on the tile of C at row i (of C) and B panel q
// of the current block: A is the packed panel ap or, if direct, the
// transposed A in place from ap[0]. Edge tiles are computed aside in s.tile
// and the part inside C added (or copied) in.
func (j *gemmJob) tile(s *packScratch, ap []float32, direct bool, bp []float32, i, q int) {
	kern := j.kern
	mr, nr, ldc := kern.mr, kern.nr, j.ldc
	nrow, ncol := min(mr, j.m-i), min(nr, j.ncur-q*nr)
	off := i*ldc + j.jc + q*nr
	edge := nrow < mr || ncol < nr
	c, ldt, acc := j.c[off:], ldc, j.accumulate
	if edge {
		c, ldt, acc = s.tile, nr, false
	}
	if direct {
		kern.microStrideA(j.kcur, ap, j.lda, bp, c, ldt, acc)
	} else {
		kern.micro(j.kcur, ap, bp, c, ldt, acc)
	}
	if !edge {
		return
	}
	for r := 0; r < nrow; r++ {
		dst := j.c[off+r*ldc : off+r*ldc+ncol]
		src := s.tile[r*nr : r*nr+ncol]
		if j.accumulate {
			for x, v := range src {
				dst[x] += v
			}
		} else {
			copy(dst, src)
		}
	}
}
