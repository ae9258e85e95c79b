package autograd

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Softmax, LogSoftmax and CrossEntropy work on the last axis: a [..., C] is
// rows of C. Each row is shifted by its maximum before exponentiating, so
// logits of any magnitude neither overflow nor lose the largest terms.

// forRows splits rows of length c over parallel.For.
func forRows(rows, c int, fn func(lo, hi int)) {
	parallel.For(rows, max(1, grainElems/max(c, 1)), fn)
}

func lastAxis(op string, a *Value) (rows, c int) {
	s := a.Shape()
	if len(s) == 0 {
		panic(fmt.Sprintf("autograd.%s: want at least one axis, got shape %v", op, s))
	}
	c = s[len(s)-1]
	if c == 0 {
		return 0, 0
	}
	return a.Data.Numel() / c, c
}

// Softmax returns exp(a - max) / Σ exp(a - max) along the last axis.
//
//	backward: dx = y ⊙ (g - Σ g⊙y)
func Softmax(a *Value) *Value {
	rows, c := lastAxis("Softmax", a)
	out := tensor.GetDirty(a.Shape()...)
	x, y := a.Data.Data, out.Data
	forRows(rows, c, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*c:(r+1)*c], y[r*c:(r+1)*c]
			s := kernels.ExpShift(yr, xr, kernels.Max(xr))
			kernels.Scale(yr, yr, 1/s)
		}
	})
	return newResult(OpSoftmax, out, false, func(g *tensor.Tensor) {
		if !a.requiresGrad {
			return
		}
		dx := a.GradBuf().Data
		forRows(rows, c, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				gr, yr, dr := g.Data[r*c:(r+1)*c], y[r*c:(r+1)*c], dx[r*c:(r+1)*c]
				dot := kernels.Dot(gr, yr)
				for i := range dr {
					dr[i] += yr[i] * (gr[i] - dot)
				}
			}
		})
	}, a)
}

// LogSoftmax returns a - max - log Σ exp(a - max) along the last axis.
//
//	backward: dx = g - exp(y) · Σ g
func LogSoftmax(a *Value) *Value {
	rows, c := lastAxis("LogSoftmax", a)
	out := tensor.GetDirty(a.Shape()...)
	x, y := a.Data.Data, out.Data
	forRows(rows, c, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*c:(r+1)*c], y[r*c:(r+1)*c]
			m := kernels.Max(xr)
			lse := m + float32(math.Log(float64(kernels.ExpShift(yr, xr, m))))
			kernels.AddScalar(yr, xr, -lse)
		}
	})
	return newResult(OpLogSoftmax, out, false, func(g *tensor.Tensor) {
		if !a.requiresGrad {
			return
		}
		dx := a.GradBuf().Data
		forRows(rows, c, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				gr, yr, dr := g.Data[r*c:(r+1)*c], y[r*c:(r+1)*c], dx[r*c:(r+1)*c]
				sg := kernels.Sum(gr)
				for i := range dr {
					dr[i] += gr[i] - kernels.Exp32(yr[i])*sg
				}
			}
		})
	}, a)
}

// CrossEntropy returns the mean over rows of -log softmax(logits)[target]:
// logits [N, C], targets N class indices in [0, C). Log-softmax and the
// negative log-likelihood are fused, and only each row's log-sum-exp is
// kept for backward (not the [N, C] probabilities), which matters for
// MoCo's N × (1+K) logits.
//
//	loss = (1/N) Σ_i (lse_i - logits[i, t_i]),  lse_i = log Σ_j exp(logits[i, j])
//	backward: dlogits[i, j] = g/N · (softmax(logits)[i, j] - [j == t_i])
func CrossEntropy(logits *Value, targets []int) *Value {
	s := logits.Shape()
	if len(s) != 2 || s[0] != len(targets) || s[0] == 0 {
		panic(fmt.Sprintf("autograd.CrossEntropy: logits %v with %d targets, want [N, C] with N = targets > 0", s, len(targets)))
	}
	n, c := s[0], s[1]
	t := append([]int(nil), targets...)
	for i, k := range t {
		if k < 0 || k >= c {
			panic(fmt.Sprintf("autograd.CrossEntropy: target %d = %d out of range for logits %v", i, k, s))
		}
	}
	x := logits.Data.Data
	lse := tensor.GetDirty(n)
	forRows(n, c, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr := x[r*c : (r+1)*c]
			m := kernels.Max(xr)
			lse.Data[r] = m + float32(math.Log(float64(kernels.SumExpShift(xr, m))))
		}
	})
	var total float64
	for r := 0; r < n; r++ {
		total += float64(lse.Data[r] - x[r*c+t[r]])
	}
	out := tensor.Get()
	out.Data[0] = float32(total / float64(n))
	res := newResult(OpCrossEntropy, out, false, func(g *tensor.Tensor) {
		if !logits.requiresGrad {
			return
		}
		dx := logits.GradBuf().Data
		scale := g.Data[0] / float32(n)
		forRows(n, c, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				xr, dr, l := x[r*c:(r+1)*c], dx[r*c:(r+1)*c], lse.Data[r]
				for i := range dr {
					dr[i] += scale * kernels.Exp32(xr[i]-l)
				}
				dr[t[r]] -= scale
			}
		})
	}, logits)
	if res.requiresGrad {
		res.save(lse)
	} else {
		tensor.Put(lse)
	}
	return res
}
