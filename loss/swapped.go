package loss

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// SwappedPrediction is SwAV's swapped prediction loss (Caron et al.,
// "Unsupervised Learning of Visual Features by Contrasting Cluster
// Assignments", arXiv:2006.09882, Eq. 1–2, and Eq. 4 for multi-crop): the
// code of one crop is predicted from every other crop of the same image,
//
//	ℓ(z_t, q_s) = −Σ_k q_s^(k) log p_t^(k),  p_t^(k) = softmax_k(z_tᵀc_k / τ)
//
// averaged as the released main_swav.py does: for each crop s in crops
// (the crops whose codes are computed, the global ones), the mean over
// the B images of ℓ(z_v, q_s) summed over the V−1 other crops v ≠ s and
// divided by V−1; then the mean over the crops s:
//
//	L = 1/|crops| Σ_{s ∈ crops} 1/(V−1) Σ_{v ≠ s} 1/B Σ_b ℓ(z_{v,b}, q_{s,b})
//
// scores [V·B, K] holds the prototype scores z·c_k of V crops of B
// images, crop-major (rows v·B … v·B+B−1 are crop v); codes[i] [B, K] are
// the codes of crop crops[i] (SinkhornKnopp, no gradient). The gradient
// flows into scores only.
//
// It is computed as one weighted log-softmax: L = −Σ W ⊙ log_softmax(
// scores/τ), where row v·B+b of the constant W collects the codes that
// crop v predicts, each weighted 1/(|crops|·(V−1)·B).
//
// SwappedPrediction panics if the shapes disagree, V < 2, a crop index is
// out of range or repeated, or tau ≤ 0.
func SwappedPrediction(scores *autograd.Value, codes []*tensor.Tensor, crops []int, tau float32) *autograd.Value {
	s := scores.Shape()
	if len(codes) == 0 || len(codes) != len(crops) {
		panic(fmt.Sprintf("loss.SwappedPrediction: %d codes for crops %v, want one per crop (at least one)", len(codes), crops))
	}
	cs := codes[0].Shape()
	if len(s) != 2 || len(cs) != 2 || cs[0] < 1 || cs[1] != s[1] || s[0]%cs[0] != 0 || s[0]/cs[0] < 2 {
		panic(fmt.Sprintf("loss.SwappedPrediction: scores %v and codes %v, want [V·B, K] and [B, K] with V ≥ 2", s, cs))
	}
	if !(tau > 0) || math.IsInf(float64(tau), 0) {
		panic(fmt.Sprintf("loss.SwappedPrediction: temperature %v, want > 0", tau))
	}
	b, k := cs[0], cs[1]
	v := s[0] / b
	w := tensor.New(v*b, k) // constant weights, kept alive by the graph
	seen := make([]bool, v)
	weight := float32(1 / (float64(len(crops)) * float64(v-1) * float64(b)))
	for i, c := range crops {
		if c < 0 || c >= v || seen[c] {
			panic(fmt.Sprintf("loss.SwappedPrediction: crops %v, want distinct indices below V = %d", crops, v))
		}
		seen[c] = true
		if !tensor.EqualShape(codes[i].Shape(), cs) {
			panic(fmt.Sprintf("loss.SwappedPrediction: codes %d of shape %v, want %v", i, codes[i].Shape(), cs))
		}
		q := codes[i].Data
		for t := 0; t < v; t++ {
			if t == c {
				continue
			}
			dst := w.Data[t*b*k : (t+1)*b*k]
			for j, x := range q {
				dst[j] += weight * x
			}
		}
	}
	logp := autograd.LogSoftmax(autograd.Scale(scores, 1/tau)) // [V·B, K]
	return autograd.Neg(autograd.Sum(autograd.Mul(logp, autograd.Const(w)), nil, false))
}
