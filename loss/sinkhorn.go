package loss

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// SinkhornKnopp returns SwAV's codes Q [N, K] for the scores [N, K] of N
// samples against K prototypes (Caron et al., "Unsupervised Learning of
// Visual Features by Contrasting Cluster Assignments", arXiv:2006.09882,
// Sec. 3.1 and Eq. 3): the solution of the entropy-regularised transport
// problem
//
//	max_{Q ∈ 𝒬} Tr(Qᵀ Cᵀ Z) + ε H(Q),
//	𝒬 = {Q ∈ R₊^{K×N} | Q 1_N = 1_K / K, Qᵀ 1_K = 1_N / N},
//
// whose rows (samples) are finally rescaled to sum to 1. The equal
// partition constraint (every prototype gets N/K samples) prevents the
// trivial solution where all samples share one code. It is computed by
// the Sinkhorn-Knopp iteration of the released distributed_sinkhorn:
//
//	Q ← exp(scores/ε); Q ← Q / ΣQ
//	repeat iters times:
//	    each prototype (column of Q here): Q[:, k] ← Q[:, k] / Σ_n Q[n, k] / K
//	    each sample (row):                 Q[n, :] ← Q[n, :] / Σ_k Q[n, k] / N
//	Q ← N·Q
//
// (Q is stored [N, K], the transpose of the paper's K×N.) The paper uses
// ε = 0.05 and 3 iterations. After at least one iteration every row sums
// to 1 and each column sums to approximately N/K, exactly so in the limit.
//
// The codes carry no gradient: scores is a plain tensor (the scores'
// Data), and Q is a new tensor from the pool that the caller may return
// with tensor.Put. The global maximum is subtracted before the
// exponential, which leaves Q unchanged after the first normalisation and
// keeps exp from overflowing; sums are accumulated in float64 over
// fixed-size row blocks, so the result does not depend on the number of
// workers. Scores are meant to be cosine similarities (|s| ≤ 1): a row or
// column whose exponentials all underflow to zero is left at zero rather
// than divided by zero.
//
// SinkhornKnopp panics if scores is not [N, K] with N, K ≥ 1, eps ≤ 0 or
// iters < 0.
func SinkhornKnopp(scores *tensor.Tensor, eps float32, iters int) *tensor.Tensor {
	return sinkhorn(scores, eps, iters, nil)
}

// Reducer reduces per-process partial results element-wise over the
// processes of a data-parallel run, in place.
type Reducer interface {
	AllReduceSum(x []float64)
	AllReduceMax(x []float64)
}

// SinkhornKnoppDist is SinkhornKnopp over the rows of every process: the
// rows of scores are this process's part of an [N, K] score matrix whose
// other rows the other processes hold (the released distributed_sinkhorn
// of SwAV). The maximum, the total, the prototype (column) sums and N are
// reduced over the processes with r; the sample (row) sums are local.
// It returns this process's rows of the codes, equal to the rows of
// SinkhornKnopp over the whole matrix up to float rounding.
func SinkhornKnoppDist(scores *tensor.Tensor, eps float32, iters int, r Reducer) *tensor.Tensor {
	return sinkhorn(scores, eps, iters, r)
}

func sinkhorn(scores *tensor.Tensor, eps float32, iters int, red Reducer) *tensor.Tensor {
	s := scores.Shape()
	if len(s) != 2 || s[0] < 1 || s[1] < 1 {
		panic(fmt.Sprintf("loss.SinkhornKnopp: scores of shape %v, want [N, K] with N, K ≥ 1", s))
	}
	if !(eps > 0) || math.IsInf(float64(eps), 0) || iters < 0 {
		panic(fmt.Sprintf("loss.SinkhornKnopp: ε = %v and %d iterations, want ε > 0 and iterations ≥ 0", eps, iters))
	}
	n, k := s[0], s[1]
	q := tensor.GetDirty(n, k)
	in, out := scores.Data, q.Data

	// Q = exp((scores − max)/ε) / Σ.
	inv := 1 / eps
	mx := kernels.Max(in)
	nAll := n // rows over every process
	if red != nil {
		buf := []float64{float64(mx), float64(n)}
		red.AllReduceMax(buf[:1])
		red.AllReduceSum(buf[1:])
		mx, nAll = float32(buf[0]), int(buf[1])
	}
	shift := mx * inv
	total := sumBlocks(n, k, func(r int, row []float32, _ []float64) float64 {
		kernels.Scale(row, in[r*k:(r+1)*k], inv)
		return float64(kernels.ExpShift(row, row, shift))
	}, out, nil)
	if red != nil {
		buf := []float64{total}
		red.AllReduceSum(buf)
		total = buf[0]
	}
	scaleRows(out, n, k, func(int) float64 { return safeInv(total) })

	colSum := make([]float64, k)
	for range iters {
		// Every prototype receives a total weight of 1/K.
		sumBlocks(n, k, func(_ int, row []float32, cols []float64) float64 {
			for j, x := range row {
				cols[j] += float64(x)
			}
			return 0
		}, out, colSum)
		if red != nil {
			red.AllReduceSum(colSum)
		}
		colScale := make([]float32, k)
		for j, c := range colSum {
			colScale[j] = float32(safeInv(c * float64(k)))
		}
		// Every sample receives a total weight of 1/N, folded with the
		// final ×N on the last iteration.
		parallel.For(n, rowGrain(k), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				row := out[r*k : (r+1)*k]
				kernels.Mul(row, row, colScale)
				var t float64
				for _, x := range row {
					t += float64(x)
				}
				kernels.Scale(row, row, float32(safeInv(t*float64(nAll))))
			}
		})
	}
	scaleRows(out, n, k, func(int) float64 { return float64(nAll) })
	return q
}

// rowBlock is the number of rows whose partial sums are accumulated
// together; fixed, so that sums do not depend on the worker count.
const rowBlock = 64

// sumBlocks calls fn for every row r of the [n, k] matrix m (fn may write
// the row) over blocks of rowBlock rows in parallel; fn adds to the
// block's column accumulator cols (when colsOut is non-nil) and returns a
// value summed over all rows. The column accumulators of the blocks are
// added into colsOut (overwritten) in block order, in float64.
func sumBlocks(n, k int, fn func(r int, row []float32, cols []float64) float64, m []float32, colsOut []float64) float64 {
	blocks := (n + rowBlock - 1) / rowBlock
	totals := make([]float64, blocks)
	var parts [][]float64
	if colsOut != nil {
		parts = make([][]float64, blocks)
	}
	parallel.For(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			var cols []float64
			if parts != nil {
				cols = make([]float64, k)
				parts[b] = cols
			}
			var t float64
			for r := b * rowBlock; r < min((b+1)*rowBlock, n); r++ {
				t += fn(r, m[r*k:(r+1)*k], cols)
			}
			totals[b] = t
		}
	})
	if colsOut != nil {
		clear(colsOut)
		for _, p := range parts {
			for j, x := range p {
				colsOut[j] += x
			}
		}
	}
	var t float64
	for _, x := range totals {
		t += x
	}
	return t
}

// scaleRows multiplies row r of the [n, k] matrix m by f(r).
func scaleRows(m []float32, n, k int, f func(r int) float64) {
	parallel.For(n, rowGrain(k), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := m[r*k : (r+1)*k]
			kernels.Scale(row, row, float32(f(r)))
		}
	})
}

// rowGrain returns a parallel grain of about 16k elements in rows of k.
func rowGrain(k int) int { return max(1, 16384/k) }

// safeInv returns 1/x, or 0 for x = 0 (an all-zero row or column stays 0).
func safeInv(x float64) float64 {
	if x == 0 {
		return 0
	}
	return 1 / x
}
