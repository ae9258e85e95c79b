package loss

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// NegativeCosine is SimSiam's D (Chen & He, "Exploring Simple Siamese
// Representation Learning", arXiv:2011.10566, Eq. 1), averaged over the
// N rows of p and z [N, D]:
//
//	D(p, z) = −(1/N) Σ_i p_i·z_i / (‖p_i‖₂‖z_i‖₂)
//
// The caller applies the stop-gradient: SimSiam passes z detached
// ("D(p1, stopgrad(z2))", Eq. 3). NegativeCosine panics if the shapes
// differ or are not [N, D] with N ≥ 1.
func NegativeCosine(p, z *autograd.Value) *autograd.Value {
	return autograd.Neg(meanCosine("NegativeCosine", p, z))
}

// BYOL is BYOL's regression loss (Grill et al., "Bootstrap Your Own
// Latent", arXiv:2006.07733, Eq. 2), averaged over the N rows:
//
//	L = (1/N) Σ_i ‖p̄_i − z̄'_i‖²₂ = 2 − 2·(1/N) Σ_i p_i·z'_i/(‖p_i‖‖z'_i‖)
//
// with p the online prediction and z' the target projection (a constant:
// the target network gets no gradient).
func BYOL(p, z *autograd.Value) *autograd.Value {
	return autograd.AddScalar(autograd.Scale(meanCosine("BYOL", p, z), -2), 2)
}

// meanCosine is the mean over rows of the cosine similarity of p and z.
func meanCosine(op string, p, z *autograd.Value) *autograd.Value {
	ps, zs := p.Shape(), z.Shape()
	if len(ps) != 2 || !tensor.EqualShape(ps, zs) || ps[0] == 0 {
		panic(fmt.Sprintf("loss.%s: shapes %v and %v, want two equal [N, D] with N ≥ 1", op, ps, zs))
	}
	pn := autograd.L2Normalize(p, normEps)
	zn := autograd.L2Normalize(z, normEps)
	return autograd.Scale(autograd.Sum(autograd.Mul(pn, zn), nil, false), 1/float32(ps[0]))
}
