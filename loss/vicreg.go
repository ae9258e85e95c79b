package loss

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// VICRegWeights are the coefficients of VICReg's three terms.
type VICRegWeights struct {
	Invariance float32 // λ (25)
	Variance   float32 // μ (25)
	Covariance float32 // ν (1)
}

// VICReg is the variance-invariance-covariance loss of Bardes, Ponce and
// LeCun (arXiv:2105.04906, Eqs. 1–6), as the released code computes it for
// z1, z2 [N, D]:
//
//	s(z1, z2) = (1/(N·D)) Σ ‖z1_i − z2_i‖²                    invariance (MSE)
//	v(z)      = (1/D) Σ_j max(0, 1 − √(Var(z_·j) + 1e-4))    Var unbiased
//	c(z)      = (1/D) Σ_{i≠j} C(z)_ij²,  C(z) = (z−z̄)ᵀ(z−z̄)/(N−1)
//	L = λ·s + μ·(v(z1)+v(z2))/2 + ν·(c(z1)+c(z2))
//
// VICReg panics if the shapes differ or N < 2.
func VICReg(z1, z2 *autograd.Value, w VICRegWeights) *autograd.Value {
	s1, s2 := z1.Shape(), z2.Shape()
	if len(s1) != 2 || !tensor.EqualShape(s1, s2) || s1[0] < 2 {
		panic(fmt.Sprintf("loss.VICReg: shapes %v and %v, want two equal [N, D] with N ≥ 2", s1, s2))
	}
	n, d := s1[0], s1[1]
	inv := autograd.Mean(autograd.Pow(autograd.Sub(z1, z2), 2), nil, false)
	_, off := eyeAndOff(d)
	offC := autograd.Const(off)
	varCov := func(z *autograd.Value) (v, c *autograd.Value) {
		zc := autograd.Sub(z, autograd.Mean(z, []int{0}, true))
		vr := autograd.Scale(autograd.Sum(autograd.Pow(zc, 2), []int{0}, false), 1/float32(n-1))
		std := autograd.Sqrt(autograd.AddScalar(vr, 1e-4))
		v = autograd.Mean(autograd.ReLU(autograd.AddScalar(autograd.Neg(std), 1)), nil, false)
		cov := autograd.Scale(autograd.MatMul(zc, zc, true, false), 1/float32(n-1))
		c = autograd.Scale(autograd.Sum(autograd.Pow(autograd.Mul(cov, offC), 2), nil, false), 1/float32(d))
		return v, c
	}
	v1, c1 := varCov(z1)
	v2, c2 := varCov(z2)
	std := autograd.Scale(autograd.Add(v1, v2), 0.5)
	cov := autograd.Add(c1, c2)
	return autograd.Add(autograd.Add(autograd.Scale(inv, w.Invariance), autograd.Scale(std, w.Variance)), autograd.Scale(cov, w.Covariance))
}
