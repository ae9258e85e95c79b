package autograd

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// AddReLU is ReLU(Add(a, b)) for a and b of the same shape: a residual
// block's output. It makes one pass over the inputs and keeps only the
// output (the sum is never stored), and its backward computes the masked
// gradient once for both inputs:
//
//	y = max(a + b, 0);  da += g·[y > 0];  db += g·[y > 0]
func AddReLU(a, b *Value) *Value {
	if !tensor.SameShape(a.Data, b.Data) {
		panic(fmt.Sprintf("autograd.AddReLU: shapes %v and %v, want equal", a.Shape(), b.Shape()))
	}
	out := tensor.GetDirty(a.Shape()...)
	x1, x2, y := a.Data.Data, b.Data.Data, out.Data
	forChunks(len(y), func(lo, hi int) { addReLU(y[lo:hi], x1[lo:hi], x2[lo:hi]) })
	return newResult(OpAddReLU, out, false, func(g *tensor.Tensor) {
		var m []float32 // the masked gradient, once a fresh buffer holds it
		for _, v := range [2]*Value{a, b} {
			switch {
			case !v.requiresGrad:
			case m != nil:
				v.addGrad(m)
			case v.Grad == nil:
				v.Grad = tensor.GetDirty(v.Data.Shape()...)
				m = v.Grad.Data
				forChunks(len(m), func(lo, hi int) { reluMask(m[lo:hi], g.Data[lo:hi], y[lo:hi]) })
			default:
				d := v.Grad.Data
				forChunks(len(d), func(lo, hi int) { reluMaskAcc(d[lo:hi], g.Data[lo:hi], y[lo:hi]) })
			}
		}
	}, a, b)
}

// addReLU writes dst = max(a + b, 0), branch-free (the sign bit of the
// sum clears it, as kernels.ReLU does).
func addReLU(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		s := math.Float32bits(a[i] + b[i])
		dst[i] = math.Float32frombits(s &^ uint32(int32(s)>>31))
	}
}

// reluKeep is all ones when y > 0 (y is a ReLU output, never negative).
func reluKeep(y float32) uint32 {
	b := math.Float32bits(y) << 1
	return uint32(int32(b|-b) >> 31)
}

// reluMask writes dst = g where y > 0, else 0.
func reluMask(dst, g, y []float32) {
	g, y = g[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = math.Float32frombits(math.Float32bits(g[i]) & reluKeep(y[i]))
	}
}

// reluMaskAcc adds g into dst where y > 0.
func reluMaskAcc(dst, g, y []float32) {
	g, y = g[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] += math.Float32frombits(math.Float32bits(g[i]) & reluKeep(y[i]))
	}
}
