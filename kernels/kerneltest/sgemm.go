package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Sgemmer is an SGEMM implementation with the signature of kernels.Sgemm:
// C = alpha·op(A)·op(B) + beta·C for row-major matrices.
type Sgemmer interface {
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// SgemmFunc adapts a function to Sgemmer.
type SgemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// Sgemm calls f.
func (f SgemmFunc) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	f(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmCase is one call of the conformance suite.
type SgemmCase struct {
	TransA, TransB bool
	M, N, K        int
	Alpha, Beta    float32
	// PadA, PadB, PadC are added to the smallest legal leading dimension.
	PadA, PadB, PadC int
}

func (c SgemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s/m=%d,n=%d,k=%d/alpha=%g,beta=%g/pad=%d,%d,%d",
		t(c.TransA), t(c.TransB), c.M, c.N, c.K, c.Alpha, c.Beta, c.PadA, c.PadB, c.PadC)
}

// SgemmCases is the suite TestSgemm runs: every combination of awkward
// sizes (1, 7, 31, 64, 129 — below, at and across the micro-tile sizes of
// every kernel), all four transpose combinations, cycling alpha/beta
// (including beta = 0 over a C full of NaN, beta = 1, alpha = 0 and k = 0)
// and padded leading dimensions; then a few larger shapes that cross the
// cache-blocking sizes (k > kc, m > mc, n > nc).
func SgemmCases() []SgemmCase {
	ab := [][2]float32{{1, 0}, {1, 1}, {-0.5, 2.5}, {2, 0}, {1.5, -1}}
	pads := [][3]int{{0, 0, 0}, {3, 1, 5}, {16, 0, 1}, {0, 7, 0}}
	sizes := []int{1, 7, 31, 64, 129}
	var cs []SgemmCase
	i := 0
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			for _, m := range sizes {
				for _, n := range sizes {
					for _, k := range sizes {
						cs = append(cs, SgemmCase{
							TransA: ta, TransB: tb, M: m, N: n, K: k,
							Alpha: ab[i%len(ab)][0], Beta: ab[i%len(ab)][1],
							PadA: pads[i%len(pads)][0], PadB: pads[i%len(pads)][1], PadC: pads[i%len(pads)][2],
						})
						i++
					}
				}
			}
		}
	}
	big := []SgemmCase{
		{M: 1000, N: 31, K: 129, Alpha: 1, Beta: 0},
		{M: 31, N: 1000, K: 129, Alpha: 1, Beta: 1, PadB: 3},
		{M: 129, N: 129, K: 1000, Alpha: -1, Beta: 0.5, TransA: true},
		{M: 7, N: 4500, K: 31, Alpha: 1, Beta: 0, TransB: true, PadC: 2},
		{M: 200, N: 260, K: 800, Alpha: 0.25, Beta: 1, TransA: true, TransB: true, PadA: 1},
		{M: 450, N: 70, K: 520, Alpha: 1, Beta: 0, PadC: 9},
		{M: 64, N: 64, K: 0, Alpha: 1, Beta: 0.5},
		{M: 64, N: 64, K: 0, Alpha: 1, Beta: 0},
		{M: 33, N: 65, K: 17, Alpha: 0, Beta: 2},
		{M: 0, N: 5, K: 3, Alpha: 1, Beta: 0},
		{M: 5, N: 0, K: 3, Alpha: 1, Beta: 0},
	}
	return append(cs, big...)
}

// guard is the NaN written around and between the matrices; its payload
// tells a clobbered guard from a NaN the implementation computed.
var guard = math.Float32frombits(0x7fc0dead)

const guardLen = 37

// TestSgemm runs SgemmCases against impl.
func TestSgemm(t *testing.T, impl Sgemmer) {
	t.Helper()
	for _, c := range SgemmCases() {
		if err := CheckSgemm(impl, c); err != nil {
			t.Errorf("%v: %v", c, err)
		}
	}
}

// CheckSgemm runs one case against impl and reports the first wrong
// element, clobbered guard or modified input.
func CheckSgemm(impl Sgemmer, tc SgemmCase) error {
	rng := rand.New(rand.NewPCG(uint64(tc.M*1_000_003+tc.N*1009+tc.K), 42))
	ar, ac := tc.M, tc.K
	if tc.TransA {
		ar, ac = ac, ar
	}
	br, bc := tc.K, tc.N
	if tc.TransB {
		br, bc = bc, br
	}
	lda, ldb, ldc := max(ac, 1)+tc.PadA, max(bc, 1)+tc.PadB, max(tc.N, 1)+tc.PadC
	a, aIn := newMatrix(rng, ar, ac, lda, true)
	b, bIn := newMatrix(rng, br, bc, ldb, true)
	// With beta == 0, C starts as NaN: it must be overwritten, not scaled.
	c, cIn := newMatrix(rng, tc.M, tc.N, ldc, tc.Beta != 0)
	a0, b0, c0 := clone(a), clone(b), clone(c)

	impl.Sgemm(tc.TransA, tc.TransB, tc.M, tc.N, tc.K, tc.Alpha,
		aIn, lda, bIn, ldb, tc.Beta, cIn, ldc)

	if i := firstDiff(a, a0); i >= 0 {
		return fmt.Errorf("A modified at index %d", i-guardLen)
	}
	if i := firstDiff(b, b0); i >= 0 {
		return fmt.Errorf("B modified at index %d", i-guardLen)
	}
	opA := func(i, p int) float64 {
		if tc.TransA {
			return float64(aIn[p*lda+i])
		}
		return float64(aIn[i*lda+p])
	}
	opB := func(p, j int) float64 {
		if tc.TransB {
			return float64(bIn[j*ldb+p])
		}
		return float64(bIn[p*ldb+j])
	}
	// Rounding bound for a k-term float32 dot product plus the beta term.
	const eps = 1.0 / (1 << 24)
	for x := range c {
		i, j, inside := -1, -1, false
		if off := x - guardLen; off >= 0 && tc.M > 0 {
			i, j = off/ldc, off%ldc
			inside = i < tc.M && j < tc.N
		}
		if !inside {
			if math.Float32bits(c[x]) != math.Float32bits(c0[x]) {
				return fmt.Errorf("wrote %g outside C at offset %d (row %d, column %d)", c[x], x-guardLen, i, j)
			}
			continue
		}
		var want, mag float64
		if tc.Alpha != 0 {
			for p := 0; p < tc.K; p++ {
				v := opA(i, p) * opB(p, j)
				want += v
				mag += math.Abs(v)
			}
			want *= float64(tc.Alpha)
			mag *= math.Abs(float64(tc.Alpha))
		}
		if tc.Beta != 0 {
			cv := float64(c0[x]) * float64(tc.Beta)
			want += cv
			mag += math.Abs(cv)
		}
		got := float64(c[x])
		if tol := 4*float64(tc.K+2)*eps*mag + 1e-30; !(math.Abs(got-want) <= tol) {
			return fmt.Errorf("C[%d,%d] = %g, want %g (tolerance %.3g)", i, j, got, want, tol)
		}
	}
	return nil
}

// newMatrix returns a rows×cols matrix with row stride ld inside guard
// bands: the whole buffer and the padding of each row are NaN guards, the
// matrix elements uniform in [-1, 1) (or left NaN when !fill). It returns
// the buffer and the matrix slice within it.
func newMatrix(rng *rand.Rand, rows, cols, ld int, fill bool) (buf, mat []float32) {
	n := 0
	if rows > 0 && cols > 0 {
		n = (rows-1)*ld + cols
	}
	buf = make([]float32, n+2*guardLen)
	for i := range buf {
		buf[i] = guard
	}
	mat = buf[guardLen : guardLen+n]
	for i := 0; i < rows && fill; i++ {
		for j := 0; j < cols; j++ {
			mat[i*ld+j] = 2*rng.Float32() - 1
		}
	}
	return buf, mat
}

func clone(s []float32) []float32 { return append([]float32(nil), s...) }

// firstDiff is the first index where a and b differ bitwise, or -1.
func firstDiff(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}
