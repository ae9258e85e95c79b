package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
)

// grainElems is the number of elements below which a loop stays on the
// calling goroutine: about 128 KiB of float32, enough to amortise starting
// a goroutine many times over.
const grainElems = 1 << 15

// forChunks runs fn over [0, n) split for parallel.For at grainElems.
func forChunks(n int, fn func(lo, hi int)) { parallel.For(n, grainElems, fn) }

// numel returns the product of shape.
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// normAxis resolves a possibly negative axis against rank, panicking with
// the op's name when it is out of range.
func normAxis(op string, axis int, shape []int) int {
	a := axis
	if a < 0 {
		a += len(shape)
	}
	if a < 0 || a >= len(shape) {
		panic(fmt.Sprintf("autograd.%s: axis %d out of range for shape %v", op, axis, shape))
	}
	return a
}

// broadcastShapes returns the NumPy broadcast of shapes a and b: shapes are
// aligned at their last axis, and each pair of sizes must be equal or
// contain a 1.
func broadcastShapes(op string, a, b []int) []int {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			panic(fmt.Sprintf("autograd.%s: shapes %v and %v do not broadcast", op, a, b))
		}
	}
	return out
}

// bcastStrides returns the strides, in elements, with which a contiguous
// tensor of shape s is read when broadcast to shape out: s is left-padded
// with ones and every axis of size 1 gets stride 0.
func bcastStrides(s, out []int) []int {
	st := make([]int, len(out))
	acc := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := i - (len(out) - len(s))
		if j < 0 || s[j] == 1 {
			continue
		}
		st[i] = acc
		acc *= s[j]
	}
	return st
}

// contiguousStrides returns the row-major strides of shape.
func contiguousStrides(shape []int) []int { return bcastStrides(shape, shape) }

// walk is a strided traversal of an iteration shape by up to three
// operands, each with its own strides (0 along broadcast axes). The shape is
// collapsed first: axes of size 1 are dropped and neighbouring axes that
// every operand traverses contiguously are merged, so a same-shape
// element-wise op becomes a single row and a bias broadcast [N,C]+[C]
// becomes N rows of C. Work is done one row (the last collapsed axis) at a
// time by kernels over sub-slices.
type walk struct {
	dims []int
	st   [3][]int
	nops int
}

func newWalk(shape []int, strides ...[]int) walk {
	w := walk{nops: len(strides)}
	for i, d := range shape {
		if d == 1 {
			continue
		}
		if last := len(w.dims) - 1; last >= 0 {
			merge := true
			for k := 0; k < w.nops; k++ {
				if w.st[k][last] != strides[k][i]*d {
					merge = false
					break
				}
			}
			if merge {
				w.dims[last] *= d
				for k := 0; k < w.nops; k++ {
					w.st[k][last] = strides[k][i]
				}
				continue
			}
		}
		w.dims = append(w.dims, d)
		for k := 0; k < w.nops; k++ {
			w.st[k] = append(w.st[k], strides[k][i])
		}
	}
	if len(w.dims) == 0 { // a single element
		w.dims = []int{1}
		for k := 0; k < w.nops; k++ {
			w.st[k] = []int{0}
		}
	}
	return w
}

// inner is the row length; istride(k) is operand k's stride along a row.
func (w *walk) inner() int        { return w.dims[len(w.dims)-1] }
func (w *walk) istride(k int) int { return w.st[k][len(w.dims)-1] }

// rows is the number of rows (the product of the outer collapsed axes).
func (w *walk) rows() int { return numel(w.dims[:len(w.dims)-1]) }

// outerDistinct reports whether operand k has a non-zero stride along every
// outer axis, so that distinct rows touch distinct elements of it.
func (w *walk) outerDistinct(k int) bool {
	for _, s := range w.st[k][:len(w.dims)-1] {
		if s == 0 {
			return false
		}
	}
	return true
}

// rowRange calls fn with the operands' start offsets of rows [lo, hi).
func (w *walk) rowRange(lo, hi int, fn func(offs [3]int)) {
	outer := len(w.dims) - 1
	var buf [8]int
	idx := buf[:0]
	if outer <= len(buf) {
		idx = buf[:outer]
	} else {
		idx = make([]int, outer)
	}
	var offs [3]int
	r := lo
	for d := outer - 1; d >= 0; d-- {
		idx[d] = r % w.dims[d]
		r /= w.dims[d]
		for k := 0; k < w.nops; k++ {
			offs[k] += idx[d] * w.st[k][d]
		}
	}
	for row := lo; row < hi; row++ {
		fn(offs)
		for d := outer - 1; d >= 0; d-- {
			idx[d]++
			for k := 0; k < w.nops; k++ {
				offs[k] += w.st[k][d]
			}
			if idx[d] < w.dims[d] {
				break
			}
			for k := 0; k < w.nops; k++ {
				offs[k] -= w.st[k][d] * w.dims[d]
			}
			idx[d] = 0
		}
	}
}

// run calls fn(offs, lo, hi) so that every element of every row is covered
// once: fn handles elements [lo, hi) of the row whose operands start at
// offs. With par, work is spread over parallel.For — the caller guarantees
// that distinct calls write distinct elements; with splitRows, a long row
// may be cut into blocks (only when no call reduces a row to one element).
func (w *walk) run(par, splitRows bool, fn func(offs [3]int, lo, hi int)) {
	inner, rows := w.inner(), w.rows()
	if inner == 0 || rows == 0 {
		return
	}
	if !par || rows*inner < 2*grainElems {
		w.rowRange(0, rows, func(offs [3]int) { fn(offs, 0, inner) })
		return
	}
	if splitRows && inner >= grainElems {
		nb := (inner + grainElems - 1) / grainElems
		parallel.For(rows*nb, 1, func(lo, hi int) {
			for it := lo; it < hi; it++ {
				row, blk := it/nb, it%nb
				w.rowRange(row, row+1, func(offs [3]int) {
					fn(offs, blk*grainElems, min((blk+1)*grainElems, inner))
				})
			}
		})
		return
	}
	parallel.For(rows, max(1, grainElems/inner), func(lo, hi int) {
		w.rowRange(lo, hi, func(offs [3]int) { fn(offs, 0, inner) })
	})
}

// reduceInto accumulates dst += alpha · (src summed over the axes along
// which dst is broadcast). src has shape srcShape; dstShape must broadcast
// to srcShape (the gradient of a broadcast operand, or a Sum).
func reduceInto(dst []float32, dstShape []int, src []float32, srcShape []int, alpha float32) {
	if len(dst) == len(src) {
		forChunks(len(dst), func(lo, hi int) { kernels.Axpy(dst[lo:hi], alpha, src[lo:hi]) })
		return
	}
	w := newWalk(srcShape, bcastStrides(dstShape, srcShape), contiguousStrides(srcShape))
	reduced := w.istride(0) == 0
	w.run(w.outerDistinct(0), !reduced, func(o [3]int, lo, hi int) {
		s := src[o[1]+lo : o[1]+hi]
		if reduced {
			dst[o[0]] += alpha * kernels.Sum(s)
		} else {
			kernels.Axpy(dst[o[0]+lo:o[0]+hi], alpha, s)
		}
	})
}

// expandInto accumulates dst += alpha · src broadcast to dstShape (the
// gradient of Sum, Mean and of broadcast reductions).
func expandInto(dst []float32, dstShape []int, src []float32, srcShape []int, alpha float32) {
	if len(dst) == len(src) {
		forChunks(len(dst), func(lo, hi int) { kernels.Axpy(dst[lo:hi], alpha, src[lo:hi]) })
		return
	}
	w := newWalk(dstShape, contiguousStrides(dstShape), bcastStrides(srcShape, dstShape))
	scalar := w.istride(1) == 0
	w.run(true, true, func(o [3]int, lo, hi int) {
		d := dst[o[0]+lo : o[0]+hi]
		if scalar {
			kernels.AddScalar(d, d, alpha*src[o[1]])
		} else {
			kernels.Axpy(d, alpha, src[o[1]+lo:o[1]+hi])
		}
	})
}
