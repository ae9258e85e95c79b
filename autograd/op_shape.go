package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Shape ops: Reshape, Detach and SliceAxis along a leading axis are views
// (they share the input's memory; Free leaves it alone); Concat, SliceAxis
// along an inner axis, Transpose and Permute copy.

// Reshape returns a view of a with a new shape (one dimension may be -1).
//
//	backward: da += g (same elements, a's shape)
func Reshape(a *Value, shape ...int) *Value {
	view := a.Data.Reshape(shape...)
	return newResult(OpReshape, view, true, func(g *tensor.Tensor) {
		if a.requiresGrad {
			da := a.GradBuf().Data
			forChunks(len(da), func(lo, hi int) { kernels.Axpy(da[lo:hi], 1, g.Data[lo:hi]) })
		}
	}, a)
}

// Detach returns a view of a's data that is cut from the graph: no
// gradient flows through it. The view shares a's memory, so it must not be
// used after a's graph is freed (Clone it first if it has to outlive it).
func Detach(a *Value) *Value {
	return newResult(OpDetach, a.Data.Reshape(a.Shape()...), true, nil)
}

// Concat joins vs along axis; every other axis must match.
//
//	backward: each input receives its block of g
func Concat(axis int, vs ...*Value) *Value {
	if len(vs) == 0 {
		panic("autograd.Concat: no inputs")
	}
	s0 := vs[0].Shape()
	ax := normAxis("Concat", axis, s0)
	outer := numel(s0[:ax])
	inners := make([]int, len(vs))
	total := 0
	for i, v := range vs {
		s := v.Shape()
		ok := len(s) == len(s0)
		for d := 0; ok && d < len(s); d++ {
			ok = d == ax || s[d] == s0[d]
		}
		if !ok {
			panic(fmt.Sprintf("autograd.Concat: input %d has shape %v, want %v except along axis %d", i, s, s0, ax))
		}
		inners[i] = numel(s[ax:])
		total += s[ax]
	}
	outShape := append([]int(nil), s0...)
	outShape[ax] = total
	out := tensor.GetDirty(outShape...)
	row := numel(outShape[ax:])
	for o := 0; o < outer; o++ {
		off := o * row
		for i, v := range vs {
			n := inners[i]
			copy(out.Data[off:off+n], v.Data.Data[o*n:(o+1)*n])
			off += n
		}
	}
	inputs := append([]*Value(nil), vs...)
	return newResult(OpConcat, out, false, func(g *tensor.Tensor) {
		for o := 0; o < outer; o++ {
			off := o * row
			for i, v := range inputs {
				n := inners[i]
				if v.requiresGrad {
					kernels.Axpy(v.GradBuf().Data[o*n:(o+1)*n], 1, g.Data[off:off+n])
				}
				off += n
			}
		}
	}, inputs...)
}

// SliceAxis returns elements [lo, hi) of a along axis. When every axis
// before it has size 1 (in particular axis 0) the result is a view.
//
//	backward: g is added into the [lo, hi) block of da
func SliceAxis(a *Value, axis, lo, hi int) *Value {
	s := a.Shape()
	ax := normAxis("SliceAxis", axis, s)
	if lo < 0 || hi > s[ax] || lo > hi {
		panic(fmt.Sprintf("autograd.SliceAxis: [%d:%d] out of range along axis %d of shape %v", lo, hi, axis, s))
	}
	outShape := append([]int(nil), s...)
	outShape[ax] = hi - lo
	outer, inner := numel(s[:ax]), numel(s[ax+1:])
	src, dst := s[ax]*inner, (hi-lo)*inner // row lengths in a and in the result
	off := lo * inner
	if outer == 1 {
		view := tensor.FromSlice(a.Data.Data[off:off+dst:off+dst], outShape...)
		return newResult(OpSliceAxis, view, true, func(g *tensor.Tensor) {
			if a.requiresGrad {
				kernels.Axpy(a.GradBuf().Data[off:off+dst], 1, g.Data)
			}
		}, a)
	}
	out := tensor.GetDirty(outShape...)
	for o := 0; o < outer; o++ {
		copy(out.Data[o*dst:(o+1)*dst], a.Data.Data[o*src+off:o*src+off+dst])
	}
	return newResult(OpSliceAxis, out, false, func(g *tensor.Tensor) {
		if !a.requiresGrad {
			return
		}
		da := a.GradBuf().Data
		for o := 0; o < outer; o++ {
			kernels.Axpy(da[o*src+off:o*src+off+dst], 1, g.Data[o*dst:(o+1)*dst])
		}
	}, a)
}

// Split cuts a along axis into consecutive pieces of the given sizes,
// which must add up to the axis length (SliceAxis for each piece).
func Split(a *Value, axis int, sizes ...int) []*Value {
	s := a.Shape()
	ax := normAxis("Split", axis, s)
	total := 0
	for _, n := range sizes {
		if n < 0 {
			total = -1
			break
		}
		total += n
	}
	if total != s[ax] {
		panic(fmt.Sprintf("autograd.Split: sizes %v do not add up to %d (axis %d of shape %v)", sizes, s[ax], axis, s))
	}
	out := make([]*Value, len(sizes))
	lo := 0
	for i, n := range sizes {
		out[i] = SliceAxis(a, ax, lo, lo+n)
		lo += n
	}
	return out
}

// Transpose returns the transpose of a 2-D a: [m,n] -> [n,m].
//
//	backward: da += gᵀ
func Transpose(a *Value) *Value {
	s := a.Shape()
	if len(s) != 2 {
		panic(fmt.Sprintf("autograd.Transpose: want a 2-D operand, got %v", s))
	}
	m, n := s[0], s[1]
	out := tensor.GetDirty(n, m)
	transpose2D(out.Data, a.Data.Data, m, n, false)
	return newResult(OpTranspose, out, false, func(g *tensor.Tensor) {
		if a.requiresGrad {
			transpose2D(a.GradBuf().Data, g.Data, n, m, true)
		}
	}, a)
}

// transpose2D writes (or, with acc, adds) srcᵀ into dst, for src [m×n],
// in 32×32 tiles (split over parallel.For by bands of source rows).
func transpose2D(dst, src []float32, m, n int, acc bool) {
	const tile = 32
	bands := (m + tile - 1) / tile
	parallel.For(bands, max(1, grainElems/max(n*tile, 1)), func(b0, b1 int) {
		for i0 := b0 * tile; i0 < min(b1*tile, m); i0 += tile {
			i1 := min(i0+tile, m)
			for j0 := 0; j0 < n; j0 += tile {
				j1 := min(j0+tile, n)
				for i := i0; i < i1; i++ {
					row := src[i*n : (i+1)*n]
					if acc {
						for j := j0; j < j1; j++ {
							dst[j*m+i] += row[j]
						}
					} else {
						for j := j0; j < j1; j++ {
							dst[j*m+i] = row[j]
						}
					}
				}
			}
		}
	})
}

// Permute reorders the axes of a: the result's axis i is a's axis perm[i]
// (torch.permute).
//
//	backward: da += g permuted back
func Permute(a *Value, perm ...int) *Value {
	s := a.Shape()
	if len(perm) != len(s) {
		panic(fmt.Sprintf("autograd.Permute: permutation %v for shape %v", perm, s))
	}
	seen := make([]bool, len(s))
	outShape := make([]int, len(s))
	for i, p := range perm {
		if p < 0 || p >= len(s) || seen[p] {
			panic(fmt.Sprintf("autograd.Permute: %v is not a permutation of the axes of %v", perm, s))
		}
		seen[p] = true
		outShape[i] = s[p]
	}
	as := contiguousStrides(s)
	ps := make([]int, len(s)) // a's strides in the result's axis order
	for i, p := range perm {
		ps[i] = as[p]
	}
	out := tensor.GetDirty(outShape...)
	permuteCopy(out.Data, a.Data.Data, outShape, ps, false)
	return newResult(OpPermute, out, false, func(g *tensor.Tensor) {
		if a.requiresGrad {
			permuteCopy(g.Data, a.GradBuf().Data, outShape, ps, true)
		}
	}, a)
}

// permuteCopy moves data between a contiguous tensor c of shape shape and
// a strided one x (strides xs, in shape's axis order): without acc c = x,
// with acc x += c (the permutation's inverse, accumulated). Every element
// of x is touched once, so the rows may run in parallel.
func permuteCopy(c, x []float32, shape, xs []int, acc bool) {
	w := newWalk(shape, contiguousStrides(shape), xs)
	// Fast path: a batch of 2-D transposes (NHWC <-> NCHW is one), done
	// in cache-sized tiles.
	d, s := w.dims, w.st[1]
	if len(d) == 2 && s[0] == 1 && s[1] == d[0] {
		d, s = []int{1, d[0], d[1]}, []int{d[0] * d[1], 1, d[0]}
	}
	if len(d) == 3 && s[0] == d[1]*d[2] && s[1] == 1 && s[2] == d[1] {
		bs := d[1] * d[2]
		for b := 0; b < d[0]; b++ {
			cb, xb := c[b*bs:(b+1)*bs], x[b*bs:(b+1)*bs]
			if acc { // x[p, q] += c[q, p]
				transpose2D(xb, cb, d[1], d[2], true)
			} else { // c[q, p] = x[p, q]
				transpose2D(cb, xb, d[2], d[1], false)
			}
		}
		return
	}
	st := w.istride(1)
	w.run(true, true, func(o [3]int, lo, hi int) {
		cr := c[o[0]+lo : o[0]+hi]
		xo := o[1] + lo*st
		if acc {
			for i, v := range cr {
				x[xo+i*st] += v
			}
		} else {
			for i := range cr {
				cr[i] = x[xo+i*st]
			}
		}
	})
}
