package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// IndexSelect and ScatterRows move rows (sub-tensors along axis 0) by
// index; each is the other's backward. Indices may repeat: gathered rows
// are copies, scattered rows add up. Both copy idx, so the caller may
// reuse the slice.

// checkRows panics when an index lies outside [0, n).
func checkRows(op string, idx []int, n int, shape []int) {
	for i, k := range idx {
		if k < 0 || k >= n {
			panic(fmt.Sprintf("autograd.%s: index %d = %d out of range [0, %d) (shape %v)", op, i, k, n, shape))
		}
	}
}

// IndexSelect gathers rows of a along axis 0: out[i] = a[idx[i]], giving
// [len(idx), ...]. It is the memory-bank lookup of InstDisc and PIRL.
//
//	backward: da[idx[i]] += g[i]
func IndexSelect(a *Value, idx []int) *Value {
	s := a.Shape()
	if len(s) == 0 {
		panic(fmt.Sprintf("autograd.IndexSelect: want at least one axis, got shape %v", s))
	}
	checkRows("IndexSelect", idx, s[0], s)
	ix := append([]int(nil), idx...)
	row := numel(s[1:])
	outShape := append([]int{len(ix)}, s[1:]...)
	out := tensor.GetDirty(outShape...)
	ad := a.Data.Data
	parallel.For(len(ix), max(1, grainElems/max(row, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			copy(out.Data[i*row:(i+1)*row], ad[ix[i]*row:(ix[i]+1)*row])
		}
	})
	return newResult(OpIndexSelect, out, false, func(g *tensor.Tensor) {
		if !a.requiresGrad {
			return
		}
		da := a.GradBuf().Data
		for i, k := range ix { // sequential: indices may repeat
			kernels.Axpy(da[k*row:(k+1)*row], 1, g.Data[i*row:(i+1)*row])
		}
	}, a)
}

// ScatterRows returns a zero tensor [n, ...] with src's rows added at idx:
// out[idx[i]] += src[i] for src [len(idx), ...].
//
//	backward: dsrc[i] += g[idx[i]]
func ScatterRows(n int, idx []int, src *Value) *Value {
	s := src.Shape()
	if len(s) == 0 || s[0] != len(idx) || n < 0 {
		panic(fmt.Sprintf("autograd.ScatterRows: src %v with %d indices into %d rows", s, len(idx), n))
	}
	checkRows("ScatterRows", idx, n, s)
	ix := append([]int(nil), idx...)
	row := numel(s[1:])
	outShape := append([]int{n}, s[1:]...)
	out := tensor.Get(outShape...)
	sd := src.Data.Data
	for i, k := range ix {
		kernels.Axpy(out.Data[k*row:(k+1)*row], 1, sd[i*row:(i+1)*row])
	}
	return newResult(OpScatterRows, out, false, func(g *tensor.Tensor) {
		if !src.requiresGrad {
			return
		}
		ds := src.GradBuf().Data
		parallel.For(len(ix), max(1, grainElems/max(row, 1)), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				k := ix[i]
				kernels.Axpy(ds[i*row:(i+1)*row], 1, g.Data[k*row:(k+1)*row])
			}
		})
	}, src)
}
