package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Add, Sub, Mul and Div: element-wise with NumPy broadcasting. Shapes are
// aligned at their last axis and each pair of sizes must be equal or
// contain a 1; the output has the broadcast shape. The gradient of a
// broadcast operand is the output gradient summed over the axes it was
// broadcast along. Same-shape operands, a bias-like operand broadcast over
// the leading axes ([N,C]+[C]), a per-row operand ([N,C]/[N,1]) and a
// one-element operand all run as rows of the kernels in package kernels.

// Add returns a + b (broadcasting).
func Add(a, b *Value) *Value { return binary(OpAdd, binAdd, a, b) }

// Sub returns a - b (broadcasting).
func Sub(a, b *Value) *Value { return binary(OpSub, binSub, a, b) }

// Mul returns a * b element-wise (broadcasting).
func Mul(a, b *Value) *Value { return binary(OpMul, binMul, a, b) }

// Div returns a / b element-wise (broadcasting).
func Div(a, b *Value) *Value { return binary(OpDiv, binDiv, a, b) }

type binKind uint8

const (
	binAdd binKind = iota
	binSub
	binMul
	binDiv
)

func binary(op Op, k binKind, a, b *Value) *Value {
	outShape := broadcastShapes(op.String(), a.Shape(), b.Shape())
	out := tensor.GetDirty(outShape...)
	binaryInto(k, out.Data, outShape, a.Data.Data, a.Shape(), b.Data.Data, b.Shape())
	var res *Value
	res = newResult(op, out, false, func(g *tensor.Tensor) { binaryBackward(k, a, b, res.Data, g) }, a, b)
	return res
}

// binaryInto computes dst = a ∘ b, where dst has shape outShape and a, b
// are contiguous with shapes that broadcast to it.
func binaryInto(k binKind, dst []float32, outShape []int, a []float32, aShape []int, b []float32, bShape []int) {
	if len(a) == len(dst) && len(b) == len(dst) {
		forChunks(len(dst), func(lo, hi int) { binRow(k, dst[lo:hi], a[lo:hi], 1, b[lo:hi], 1) })
		return
	}
	w := newWalk(outShape, contiguousStrides(outShape), bcastStrides(aShape, outShape), bcastStrides(bShape, outShape))
	sa, sb := w.istride(1), w.istride(2)
	w.run(true, true, func(o [3]int, lo, hi int) {
		binRow(k, dst[o[0]+lo:o[0]+hi], a[o[1]+lo*sa:], sa, b[o[2]+lo*sb:], sb)
	})
}

// binRow computes d[i] = a[i·sa] ∘ b[i·sb] for strides sa, sb ∈ {0, 1}.
func binRow(k binKind, d, a []float32, sa int, b []float32, sb int) {
	n := len(d)
	switch {
	case sa == 1 && sb == 1:
		a, b = a[:n], b[:n]
		switch k {
		case binAdd:
			kernels.Add(d, a, b)
		case binSub:
			kernels.Sub(d, a, b)
		case binMul:
			kernels.Mul(d, a, b)
		case binDiv:
			kernels.Div(d, a, b)
		}
	case sa == 1 && sb == 0:
		a, s := a[:n], b[0]
		switch k {
		case binAdd:
			kernels.AddScalar(d, a, s)
		case binSub:
			kernels.AddScalar(d, a, -s)
		case binMul:
			kernels.Scale(d, a, s)
		case binDiv:
			kernels.DivScalar(d, a, s)
		}
	case sa == 0 && sb == 1:
		s, b := a[0], b[:n]
		switch k {
		case binAdd:
			kernels.AddScalar(d, b, s)
		case binSub:
			kernels.ScalarSub(d, s, b)
		case binMul:
			kernels.Scale(d, b, s)
		case binDiv:
			kernels.ScalarDiv(d, s, b)
		}
	default:
		// The row axis is the output's last non-unit axis, which at least
		// one operand spans; one-element outputs take binaryInto's
		// same-size path.
		panic(fmt.Sprintf("autograd: internal error: binary row with strides %d, %d", sa, sb))
	}
}

// binaryBackward accumulates the gradients of out = a ∘ b given the
// output gradient g.
//
//	add: da += g        db += g
//	sub: da += g        db -= g
//	mul: da += g·b      db += g·a
//	div: da += g/b      db -= g·out/b
//
// each summed over the axes along which that operand was broadcast.
func binaryBackward(k binKind, a, b *Value, out, g *tensor.Tensor) {
	os := out.Shape()
	gd := g.Data
	same := a.Data.Numel() == len(gd) && b.Data.Numel() == len(gd)
	switch k {
	case binAdd, binSub:
		if a.requiresGrad {
			if a.Data.Numel() == len(gd) {
				a.addGrad(gd)
			} else {
				reduceInto(a.GradBuf().Data, a.Shape(), gd, os, 1)
			}
		}
		if b.requiresGrad && k == binAdd && b.Data.Numel() == len(gd) {
			b.addGrad(gd)
			break
		}
		if b.requiresGrad {
			sign := float32(1)
			if k == binSub {
				sign = -1
			}
			reduceInto(b.GradBuf().Data, b.Shape(), gd, os, sign)
		}
	case binMul:
		for _, p := range [2][2]*Value{{a, b}, {b, a}} {
			x, other := p[0], p[1]
			if !x.requiresGrad {
				continue
			}
			dx, od := x.GradBuf().Data, other.Data.Data
			if same {
				forChunks(len(gd), func(lo, hi int) { kernels.MulAcc(dx[lo:hi], gd[lo:hi], od[lo:hi]) })
				continue
			}
			t := tensor.GetDirty(os...)
			binaryInto(binMul, t.Data, os, gd, os, od, other.Shape())
			reduceInto(dx, x.Shape(), t.Data, os, 1)
			tensor.Put(t)
		}
	case binDiv:
		bd := b.Data.Data
		if a.requiresGrad {
			da := a.GradBuf().Data
			if same {
				forChunks(len(gd), func(lo, hi int) {
					d, gg, bb := da[lo:hi], gd[lo:hi], bd[lo:hi]
					for i := range d {
						d[i] += gg[i] / bb[i]
					}
				})
			} else {
				t := tensor.GetDirty(os...)
				binaryInto(binDiv, t.Data, os, gd, os, bd, b.Shape())
				reduceInto(da, a.Shape(), t.Data, os, 1)
				tensor.Put(t)
			}
		}
		if b.requiresGrad {
			db, od := b.GradBuf().Data, out.Data
			if same {
				forChunks(len(gd), func(lo, hi int) {
					d, gg, oo, bb := db[lo:hi], gd[lo:hi], od[lo:hi], bd[lo:hi]
					for i := range d {
						d[i] -= gg[i] * oo[i] / bb[i]
					}
				})
			} else {
				t := tensor.GetDirty(os...)
				binaryInto(binDiv, t.Data, os, od, os, bd, b.Shape())
				kernels.Mul(t.Data, t.Data, gd)
				reduceInto(db, b.Shape(), t.Data, os, -1)
				tensor.Put(t)
			}
		}
	}
}
