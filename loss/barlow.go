package loss

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// BarlowTwins is the redundancy-reduction loss of Zbontar et al.,
// "Barlow Twins: Self-Supervised Learning via Redundancy Reduction"
// (arXiv:2103.03230, Eq. 1). z1 and z2 [N, D] are the projections of two
// views; each is standardised along the batch as the released code's
// BatchNorm1d(affine=False) does (biased variance, ε = 1e-5), and
//
//	C = z̃1ᵀ z̃2 / N                              [D, D]
//	L = Σ_i (1 − C_ii)² + λ Σ_i Σ_{j≠i} C_ij²
//
// The paper uses λ = 0.0051 for D = 8192. BarlowTwins panics if the
// shapes differ, N < 2 or λ < 0.
func BarlowTwins(z1, z2 *autograd.Value, lambda float32) *autograd.Value {
	s1, s2 := z1.Shape(), z2.Shape()
	if len(s1) != 2 || !tensor.EqualShape(s1, s2) || s1[0] < 2 {
		panic(fmt.Sprintf("loss.BarlowTwins: shapes %v and %v, want two equal [N, D] with N ≥ 2", s1, s2))
	}
	if !(lambda >= 0) || math.IsInf(float64(lambda), 0) {
		panic(fmt.Sprintf("loss.BarlowTwins: λ %v, want ≥ 0", lambda))
	}
	n, d := s1[0], s1[1]
	a, b := standardize(z1, 1e-5), standardize(z2, 1e-5)
	c := autograd.Scale(autograd.MatMul(a, b, true, false), 1/float32(n)) // [D, D]
	eye, off := eyeAndOff(d)
	onDiag := autograd.Sum(autograd.Pow(autograd.Mul(autograd.Sub(c, autograd.Const(eye)), autograd.Const(eye)), 2), nil, false)
	offDiag := autograd.Sum(autograd.Pow(autograd.Mul(c, autograd.Const(off)), 2), nil, false)
	return autograd.Add(onDiag, autograd.Scale(offDiag, lambda))
}

// standardize returns (x − mean)/√(var + eps) per column of x [N, D], with
// the biased variance (batch norm in training mode without affine).
func standardize(x *autograd.Value, eps float32) *autograd.Value {
	xc := autograd.Sub(x, autograd.Mean(x, []int{0}, true))
	v := autograd.Mean(autograd.Pow(xc, 2), []int{0}, true)
	return autograd.Div(xc, autograd.Sqrt(autograd.AddScalar(v, eps)))
}

// eyeAndOff returns the [d, d] identity and its complement (1 off the
// diagonal).
func eyeAndOff(d int) (eye, off *tensor.Tensor) {
	eye, off = tensor.New(d, d), tensor.New(d, d)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			if i == j {
				eye.Data[i*d+j] = 1
			} else {
				off.Data[i*d+j] = 1
			}
		}
	}
	return eye, off
}
