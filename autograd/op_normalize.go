package autograd

import (
	"math"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// L2Normalize divides each row of a [..., D] by its Euclidean norm clamped
// below at eps, as torch.nn.functional.normalize(a, dim=-1, eps=eps):
//
//	y = x / max(‖x‖, eps)
//	backward: dx = (g - y·(g·y)) / ‖x‖   when ‖x‖ > eps
//	          dx = g / eps               otherwise
//
// Only the row norms are kept for backward.
func L2Normalize(a *Value, eps float32) *Value {
	rows, d := lastAxis("L2Normalize", a)
	out := tensor.GetDirty(a.Shape()...)
	norms := tensor.GetDirty(max(rows, 1))
	x, y, nr := a.Data.Data, out.Data, norms.Data
	forRows(rows, d, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr := x[r*d : (r+1)*d]
			n := float32(math.Sqrt(float64(kernels.Dot(xr, xr))))
			nr[r] = n
			kernels.DivScalar(y[r*d:(r+1)*d], xr, max(n, eps))
		}
	})
	res := newResult(OpL2Normalize, out, false, func(g *tensor.Tensor) {
		if !a.requiresGrad {
			return
		}
		dx := a.GradBuf().Data
		forRows(rows, d, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				gr, yr, dr := g.Data[r*d:(r+1)*d], y[r*d:(r+1)*d], dx[r*d:(r+1)*d]
				n := nr[r]
				if n <= eps {
					kernels.Axpy(dr, 1/eps, gr)
					continue
				}
				dot, inv := kernels.Dot(gr, yr), 1/n
				for i := range dr {
					dr[i] += (gr[i] - yr[i]*dot) * inv
				}
			}
		})
	}, a)
	if res.requiresGrad {
		res.save(norms)
	} else {
		tensor.Put(norms)
	}
	return res
}
