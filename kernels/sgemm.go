package kernels

//go:generate sh -c "cd _asm && go run . -out .."

import (
	"sync"

	"contrastive/internal/parallel"
)

// gemmKernel is one register-blocked micro-kernel together with the cache
// blocking the driver uses around it.
type gemmKernel struct {
	name   string
	mr, nr int // tile rows (height of a packed A panel) and columns (width of a B panel)
	kc     int // depth of a packed block: a kc×nr B panel stays in L1
	mc     int // rows of A packed per block (a multiple of mr): mc×kc stays in L2
	nc     int // columns of B packed per panel (a multiple of nr): kc×nc stays in L3
	// micro computes the mr×nr tile
	//	C[i*ldc+j] (+)= Σ_p a[p*mr+i]·b[p*nr+j],  p < kc
	// overwriting C (C is not read) unless accumulate. kc ≥ 1; a and b are
	// packed panels; c holds mr rows of nr floats with row stride ldc.
	micro func(kc int, a, b, c []float32, ldc int, accumulate bool)
	// transpose is packTransposed or a faster equivalent: the packing of
	// operands whose panels run across rows (A not transposed, B transposed).
	transpose func(d, src []float32, ld, rows, kcur, width int, alpha float32)
}

// parallelFlops is the work (2·m·n·k) below which Sgemm stays on the calling
// goroutine; each additional worker needs another parallelFlops of work.
const parallelFlops = 2 << 20

// gemmJob carries one Sgemm call through the blocked loops. Jobs are pooled
// with their packed-B buffer and their bound methods, so that a call
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

	bp []float32 // packed B panel, kcEff × roundUp(ncEff, nr), shared by the workers

	packBFn, macroFn, scaleFn func(lo, hi int)
}

var jobPool = sync.Pool{New: func() any {
	j := new(gemmJob)
	j.packBFn = j.packBRange
	j.macroFn = j.macroRange
	j.scaleFn = j.scaleRows
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
//	    pack B[pc:pc+kc, jc:jc+nc] into nr-wide panels     (shared, in L3)
//	    for ic over m, mc rows at a time (split among workers):
//	      pack alpha·A[ic:ic+mc, pc:pc+kc] into mr-high panels  (per worker, L2)
//	      for jr over the B panel, nr columns at a time:   (kc×nr of B in L1)
//	        for ir over the A block, mr rows at a time:
//	          micro-kernel on C[ic+ir:+mr, jc+jr:+nr]
//
// When A has too few rows to keep every worker busy, the workers split the
// columns of the B panel instead and each packs all of A. beta is applied to
// C up front unless it is 0 (the first k block then overwrites C, so NaNs in
// C do not propagate) or 1. Edge tiles go through a small temporary tile.
// Arguments are trusted (Sgemm checks them).
func sgemmPacked(kern *gemmKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	threads := min(parallel.Workers(), max(1, 2*m*n*k/parallelFlops))
	j := jobPool.Get().(*gemmJob)
	*j = gemmJob{
		kern: kern, transA: transA, transB: transB, m: m, n: n, k: k,
		alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc,
		bp: j.bp, packBFn: j.packBFn, macroFn: j.macroFn, scaleFn: j.scaleFn,
	}
	defer func() {
		j.a, j.b, j.c = nil, nil, nil // do not keep the caller's memory alive
		jobPool.Put(j)
	}()

	if k == 0 || alpha == 0 || (beta != 0 && beta != 1) {
		forRange(m, threads, max(1, (1<<16)/n), j.scaleFn)
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
		// Split whichever of A's row panels and B's column panels divides
		// more evenly among the workers (rows on a tie).
		units := mPanels
		j.splitN = false
		if threads > 1 && balance(nPanels, threads) > balance(mPanels, threads) {
			units = nPanels
			j.splitN = true
		}
		for pc := 0; pc < k; pc += j.kcEff {
			j.pc, j.kcur = pc, min(j.kcEff, k-pc)
			j.accumulate = pc > 0 || j.beta != 0
			forRange(nPanels, threads, 4, j.packBFn)
			forRange(units, threads, 1, j.macroFn)
		}
	}
}

// forRange runs fn over [0, n) on up to threads workers.
func forRange(n, threads, grain int, fn func(lo, hi int)) {
	if threads <= 1 {
		fn(0, n)
		return
	}
	parallel.For(n, max(grain, ceilDiv(n, threads)), fn)
}

// balance is the fraction of the workers' time spent working when units
// equal pieces of work are split among them.
func balance(units, workers int) float64 {
	return float64(units) / float64(workers*ceilDiv(units, workers))
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

// packBRange packs the B panels [lo, hi) (nr columns each) of the current
// block.
func (j *gemmJob) packBRange(lo, hi int) {
	packB(j.bp, j.transB, j.b, j.ldb, j.pc, j.kcur, j.jc, j.ncur, lo, hi, j.kern.nr, j.kern.transpose)
}

// macroRange runs the micro-kernels of work units [lo, hi): row panels of A
// (mr rows each) or, when splitN, column panels of B (nr columns each).
func (j *gemmJob) macroRange(lo, hi int) {
	mr, nr := j.kern.mr, j.kern.nr
	if j.splitN {
		j.macro(0, j.m, lo, hi)
		return
	}
	j.macro(lo*mr, min(hi*mr, j.m), 0, ceilDiv(j.ncur, nr))
}

// macro multiplies rows [i0, i1) of op(A)'s current k block by the B panels
// [q0, q1) of the current block into C.
func (j *gemmJob) macro(i0, i1, q0, q1 int) {
	kern := j.kern
	mr, nr, kcur, ldc := kern.mr, kern.nr, j.kcur, j.ldc
	s := getScratch(roundUp(min(j.mcEff, i1-i0), mr)*kcur, mr*nr)
	defer scratchPool.Put(s)
	for ic := i0; ic < i1; ic += j.mcEff {
		mcur := min(j.mcEff, i1-ic)
		packA(s.a, j.transA, j.a, j.lda, ic, mcur, j.pc, kcur, j.alpha, mr, kern.transpose)
		for q := q0; q < q1; q++ {
			jr := q * nr
			ncol := min(nr, j.ncur-jr)
			bp := j.bp[q*nr*kcur : (q+1)*nr*kcur]
			for ir := 0; ir < mcur; ir += mr {
				nrow := min(mr, mcur-ir)
				ap := s.a[ir*kcur : (ir+mr)*kcur]
				off := (ic+ir)*ldc + j.jc + jr
				if nrow == mr && ncol == nr {
					kern.micro(kcur, ap, bp, j.c[off:], ldc, j.accumulate)
					continue
				}
				kern.micro(kcur, ap, bp, s.tile, nr, false)
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
		}
	}
}
