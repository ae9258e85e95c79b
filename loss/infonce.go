package loss

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/autograd"
)

// InfoNCELogits returns MoCo's logits (He et al., "Momentum Contrast for
// Unsupervised Visual Representation Learning", arXiv:1911.05722,
// Algorithm 1) for N queries q [N, C], their positive keys k [N, C] and a
// queue of K negative keys [K, C] (one key per row):
//
//	lPos = q·k₊          [N, 1]    bmm(q.view(N,1,C), k.view(N,C,1))
//	lNeg = q·queueᵀ      [N, K]    mm(q.view(N,C), queue.view(C,K))
//	logits = [lPos, lNeg] / τ      [N, 1+K], the positive at index 0
//
// The embeddings are used as given: MoCo L2-normalises q and k and keeps
// normalised keys in its queue. Gradients flow into every input that
// requires one (in MoCo only q does).
//
// InfoNCELogits panics if the shapes disagree or tau ≤ 0.
func InfoNCELogits(q, k, queue *autograd.Value, tau float32) *autograd.Value {
	qs, ks, us := q.Shape(), k.Shape(), queue.Shape()
	if len(qs) != 2 || len(ks) != 2 || len(us) != 2 || qs[0] == 0 || ks[0] != qs[0] || ks[1] != qs[1] || us[1] != qs[1] || us[0] == 0 {
		panic(fmt.Sprintf("loss.InfoNCE: q %v, k %v, queue %v, want q and k [N, C], queue [K, C] with N, K ≥ 1", qs, ks, us))
	}
	if !(tau > 0) || math.IsInf(float64(tau), 0) {
		panic(fmt.Sprintf("loss.InfoNCE: temperature %v, want > 0", tau))
	}
	lPos := autograd.Sum(autograd.Mul(q, k), []int{1}, true) // [N, 1]
	lNeg := autograd.MatMul(q, queue, false, true)           // [N, K]
	return autograd.Scale(autograd.Concat(1, lPos, lNeg), 1/tau)
}

// InfoNCE is MoCo's contrastive loss (arXiv:1911.05722, Eq. 1), the
// cross-entropy of InfoNCELogits towards the positive at index 0, averaged
// over the N queries:
//
//	L_q = −log( exp(q·k₊/τ) / (exp(q·k₊/τ) + Σ_{i<K} exp(q·queue_i/τ)) )
//
// When every logit is equal (identical embeddings) L = log(1+K).
func InfoNCE(q, k, queue *autograd.Value, tau float32) *autograd.Value {
	logits := InfoNCELogits(q, k, queue, tau)
	return autograd.CrossEntropy(logits, make([]int, q.Shape()[0])) // labels: zeros
}
