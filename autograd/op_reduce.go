package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Sum returns a summed over axes (negative axes count from the end; nil or
// empty means every axis). With keepDims the reduced axes stay as size 1,
// otherwise they are dropped (summing every axis gives a 0-d scalar).
func Sum(a *Value, axes []int, keepDims bool) *Value {
	return reduce(OpSum, a, axes, keepDims, false)
}

// Mean is Sum divided by the number of elements reduced.
func Mean(a *Value, axes []int, keepDims bool) *Value {
	return reduce(OpMean, a, axes, keepDims, true)
}

// reduceShapes returns the shape with reduced axes set to 1 (kept), the
// output shape and the number of elements summed into each output.
func reduceShapes(op string, shape, axes []int, keepDims bool) (kept, out []int, count int) {
	kept = append([]int(nil), shape...)
	count = 1
	if len(axes) == 0 {
		for i := range kept {
			count *= kept[i]
			kept[i] = 1
		}
	} else {
		for _, ax := range axes {
			i := normAxis(op, ax, shape)
			if kept[i] == 1 && shape[i] != 1 {
				panic(fmt.Sprintf("autograd.%s: axis %d repeated in %v for shape %v", op, ax, axes, shape))
			}
			count *= kept[i]
			kept[i] = 1
		}
	}
	if keepDims {
		return kept, kept, count
	}
	out = make([]int, 0, len(shape))
	for i, d := range shape {
		reduced := len(axes) == 0
		for _, ax := range axes {
			if normAxis(op, ax, shape) == i {
				reduced = true
			}
		}
		if !reduced {
			out = append(out, d)
		}
	}
	return kept, out, count
}

func reduce(op Op, a *Value, axes []int, keepDims, mean bool) *Value {
	kept, outShape, count := reduceShapes(op.String(), a.Shape(), axes, keepDims)
	alpha := float32(1)
	if mean {
		alpha = 1 / float32(count)
	}
	out := tensor.Get(outShape...)
	if len(out.Data) == 1 {
		out.Data[0] = alpha * sumAll(a.Data.Data)
	} else {
		reduceInto(out.Data, kept, a.Data.Data, a.Shape(), alpha)
	}
	return newResult(op, out, false, func(g *tensor.Tensor) {
		if a.requiresGrad {
			expandInto(a.GradBuf().Data, a.Shape(), g.Data, kept, alpha)
		}
	}, a)
}

// sumAll sums x, in parallel partial sums for long x.
func sumAll(x []float32) float32 {
	if len(x) < 2*grainElems {
		return kernels.Sum(x)
	}
	var parts [64]float32
	chunk := max(grainElems, (len(x)+len(parts)-1)/len(parts))
	n := (len(x) + chunk - 1) / chunk
	parallel.For(n, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			parts[c] = kernels.Sum(x[c*chunk : min((c+1)*chunk, len(x))])
		}
	})
	return kernels.Sum(parts[:n])
}
