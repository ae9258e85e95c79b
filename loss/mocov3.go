package loss

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// MoCoV3 is the contrastive loss of MoCo v3 (Chen, Xie and He, "An
// Empirical Study of Training Self-Supervised Vision Transformers",
// arXiv:2104.02057, Algorithm 1) for queries q and keys k [N, C]: the keys
// of the same batch are the negatives (no queue),
//
//	logits = normalize(q) · normalize(k)ᵀ / τ      [N, N]
//	L = CrossEntropy(logits, arange(N)) · 2τ
//
// (the 2τ factor is the released code's). The symmetric loss is
// MoCoV3(q1, k2) + MoCoV3(q2, k1); k is a constant (the momentum
// encoder's output). MoCoV3 panics if the shapes differ or τ ≤ 0.
func MoCoV3(q, k *autograd.Value, tau float32) *autograd.Value {
	qs, ks := q.Shape(), k.Shape()
	if len(qs) != 2 || !tensor.EqualShape(qs, ks) || qs[0] == 0 {
		panic(fmt.Sprintf("loss.MoCoV3: q %v, k %v, want two equal [N, C] with N ≥ 1", qs, ks))
	}
	if !(tau > 0) || math.IsInf(float64(tau), 0) {
		panic(fmt.Sprintf("loss.MoCoV3: temperature %v, want > 0", tau))
	}
	n := qs[0]
	logits := autograd.Scale(autograd.MatMul(autograd.L2Normalize(q, normEps), autograd.L2Normalize(k, normEps), false, true), 1/tau)
	targets := make([]int, n)
	for i := range targets {
		targets[i] = i
	}
	return autograd.Scale(autograd.CrossEntropy(logits, targets), 2*tau)
}
