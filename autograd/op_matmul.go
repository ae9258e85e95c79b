package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// MatMul, BatchedMatMul and Linear: every product goes through
// kernels.Sgemm. With C = op(A)·op(B), the gradients are
//
//	dop(A) = G·op(B)ᵀ   (dA = op(B)·Gᵀ when A is stored transposed)
//	dop(B) = op(A)ᵀ·G   (dB = Gᵀ·op(A) when B is stored transposed)
//
// accumulated into the stored layout with beta = 1.

// mmDims checks the operand shapes of op(A)·op(B) (A, B 2-D as given by
// sa, sb) and returns m, n, k.
func mmDims(op string, sa, sb []int, transA, transB bool) (m, n, k int) {
	m, k = sa[0], sa[1]
	if transA {
		m, k = k, m
	}
	kb, n := sb[0], sb[1]
	if transB {
		kb, n = n, kb
	}
	if k != kb {
		panic(fmt.Sprintf("autograd.%s: inner sizes differ: a %v (transA=%v), b %v (transB=%v)", op, sa, transA, sb, transB))
	}
	return m, n, k
}

// mmForward computes C[m×n] = op(A)·op(B) with A, B stored as given.
func mmForward(transA, transB bool, m, n, k int, a, b, c []float32) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	kernels.Sgemm(transA, transB, m, n, k, 1, a, max(lda, 1), b, max(ldb, 1), 0, c, max(n, 1))
}

// mmBackward accumulates the gradients of C = op(A)·op(B) into da and db
// (either may be nil when that operand needs no gradient).
func mmBackward(transA, transB bool, m, n, k int, a, b, g, da, db []float32) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	lda, ldb, ldg := max(lda, 1), max(ldb, 1), max(n, 1)
	if da != nil {
		if !transA { // dA[m×k] += G·op(B)ᵀ
			kernels.Sgemm(false, !transB, m, k, n, 1, g, ldg, b, ldb, 1, da, max(k, 1))
		} else { // dA[k×m] += op(B)·Gᵀ
			kernels.Sgemm(transB, true, k, m, n, 1, b, ldb, g, ldg, 1, da, max(m, 1))
		}
	}
	if db != nil {
		if !transB { // dB[k×n] += op(A)ᵀ·G
			kernels.Sgemm(!transA, false, k, n, m, 1, a, lda, g, ldg, 1, db, max(n, 1))
		} else { // dB[n×k] += Gᵀ·op(A)
			kernels.Sgemm(true, transA, n, k, m, 1, g, ldg, a, lda, 1, db, max(k, 1))
		}
	}
}

// gradData returns v's gradient buffer when v requires a gradient, else nil.
func gradData(v *Value) []float32 {
	if v == nil || !v.requiresGrad {
		return nil
	}
	return v.GradBuf().Data
}

// MatMul returns op(a)·op(b) for 2-D a, b, where op transposes when the
// flag is set: a [m,k] (or [k,m] with transA), b [k,n] (or [n,k] with
// transB) give [m,n].
func MatMul(a, b *Value, transA, transB bool) *Value {
	if a.Data.Rank() != 2 || b.Data.Rank() != 2 {
		panic(fmt.Sprintf("autograd.MatMul: want 2-D operands, got %v and %v", a.Shape(), b.Shape()))
	}
	m, n, k := mmDims("MatMul", a.Shape(), b.Shape(), transA, transB)
	out := tensor.GetDirty(m, n)
	mmForward(transA, transB, m, n, k, a.Data.Data, b.Data.Data, out.Data)
	return newResult(OpMatMul, out, false, func(g *tensor.Tensor) {
		mmBackward(transA, transB, m, n, k, a.Data.Data, b.Data.Data, g.Data, gradData(a), gradData(b))
	}, a, b)
}

// BatchedMatMul returns op(a[i])·op(b[i]) for 3-D a [B,m,k], b [B,k,n]
// (transposes per matrix as in MatMul), giving [B,m,n].
func BatchedMatMul(a, b *Value, transA, transB bool) *Value {
	sa, sb := a.Shape(), b.Shape()
	if len(sa) != 3 || len(sb) != 3 || sa[0] != sb[0] {
		panic(fmt.Sprintf("autograd.BatchedMatMul: want 3-D operands with equal batch, got %v and %v", sa, sb))
	}
	bs := sa[0]
	m, n, k := mmDims("BatchedMatMul", sa[1:], sb[1:], transA, transB)
	out := tensor.GetDirty(bs, m, n)
	ad, bd := a.Data.Data, b.Data.Data
	for i := 0; i < bs; i++ {
		mmForward(transA, transB, m, n, k, ad[i*m*k:(i+1)*m*k], bd[i*k*n:(i+1)*k*n], out.Data[i*m*n:(i+1)*m*n])
	}
	return newResult(OpBatchedMatMul, out, false, func(g *tensor.Tensor) {
		da, db := gradData(a), gradData(b)
		for i := 0; i < bs; i++ {
			var dai, dbi []float32
			if da != nil {
				dai = da[i*m*k : (i+1)*m*k]
			}
			if db != nil {
				dbi = db[i*k*n : (i+1)*k*n]
			}
			mmBackward(transA, transB, m, n, k, ad[i*m*k:(i+1)*m*k], bd[i*k*n:(i+1)*k*n], g.Data[i*m*n:(i+1)*m*n], dai, dbi)
		}
	}, a, b)
}

// Linear returns x·wᵀ + b for x [..., in], w [out, in] (torch.nn.Linear's
// layout) and b [out] or nil, giving [..., out]. The bias is fused: it
// fills the output before the GEMM accumulates into it.
//
//	backward: dx = g·w   dw = gᵀ·x   db = Σ_rows g
func Linear(x, w, b *Value) *Value {
	sx, sw := x.Shape(), w.Shape()
	if len(sx) == 0 || len(sw) != 2 || sx[len(sx)-1] != sw[1] || (b != nil && (b.Data.Rank() != 1 || b.Shape()[0] != sw[0])) {
		var bs []int
		if b != nil {
			bs = b.Shape()
		}
		panic(fmt.Sprintf("autograd.Linear: x %v, w %v, b %v: want x [..., in], w [out, in], b [out]", sx, sw, bs))
	}
	in, outF := sw[1], sw[0]
	rows := 0
	if in > 0 {
		rows = x.Data.Numel() / in
	} else {
		rows = numel(sx[:len(sx)-1])
	}
	outShape := append(append(make([]int, 0, len(sx)), sx[:len(sx)-1]...), outF)
	out := tensor.GetDirty(outShape...)
	beta := float32(0)
	if b != nil {
		for r := 0; r < rows; r++ {
			copy(out.Data[r*outF:(r+1)*outF], b.Data.Data)
		}
		beta = 1
	}
	kernels.Sgemm(false, true, rows, outF, in, 1, x.Data.Data, max(in, 1), w.Data.Data, max(in, 1), beta, out.Data, max(outF, 1))
	inputs := []*Value{x, w}
	if b != nil {
		inputs = append(inputs, b)
	}
	return newResult(OpLinear, out, false, func(g *tensor.Tensor) {
		if x.requiresGrad { // dx[rows×in] += g[rows×out]·w[out×in]
			kernels.Sgemm(false, false, rows, in, outF, 1, g.Data, max(outF, 1), w.Data.Data, max(in, 1), 1, x.GradBuf().Data, max(in, 1))
		}
		if w.requiresGrad { // dw[out×in] += gᵀ·x
			kernels.Sgemm(true, false, outF, in, rows, 1, g.Data, max(outF, 1), x.Data.Data, max(in, 1), 1, w.GradBuf().Data, max(in, 1))
		}
		if b != nil && b.requiresGrad {
			reduceInto(b.GradBuf().Data, b.Shape(), g.Data, []int{rows, outF}, 1)
		}
	}, inputs...)
}
