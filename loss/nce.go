package loss

import (
	"fmt"
	"math"
	"sync"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// The memory-bank losses of instance discrimination (Wu et al., "Unsupervised
// Feature Learning via Non-Parametric Instance Discrimination",
// arXiv:1805.01978) and PIRL (Misra & van der Maaten, arXiv:1912.01991).
// Every sample i has a bank row m_i, a unit vector; v is a batch of
// L2-normalised embeddings [B, D], pos [B, D] the bank rows of the batch's
// own samples and noise [m, D] rows drawn uniformly from the bank, shared
// by the whole batch. The bank is not trained: pos and noise are constants
// and only v receives a gradient. The callers normalise v (it is also what
// the bank stores); the losses do not. The cross-entropy form with sampled
// negatives ("NPID++" in PIRL, arXiv:1912.01991 §4.2) is InfoNCE(v, pos,
// noise, τ): MoCo's loss with bank rows in place of the queue.

// NCE is InstDisc's noise-contrastive estimation of the non-parametric
// softmax (arXiv:1805.01978, Eq. 3–7; lemniscate.pytorch's NCEAverage and
// NCECriterion). With the unnormalised density P(i|v) = exp(vᵀm_i/τ)/Z and
// uniform noise P_n = 1/N over the N bank rows, the posterior that a score
// came from the data and not from one of the m noise samples is
//
//	h(i, v) = P(i|v) / (P(i|v) + m·P_n) = σ(x),  x = vᵀm_i/τ − log Z − log(m/N)
//	L = −(1/B) Σ_b [ log h(i_b, v_b) + Σ_{k=1..m} log(1 − h(n_k, v_b)) ]
//
// log h = −softplus(−x) and log(1−h) = −softplus(x) are binary
// cross-entropies: every score becomes a two-logit row [x, 0] with target 0
// for the positive and 1 for a noise sample, and L is (1+m) times the mean
// CrossEntropy over the B(1+m) rows, which is stable for any x. logZ is
// log Z, kept fixed after NCELogZ estimates it once; n is N.
//
//	v [B, D], pos [B, D], noise [m, D] → scalar
//
// NCE panics on mismatched shapes, tau ≤ 0, n < 1 or a non-finite logZ.
func NCE(v, pos, noise *autograd.Value, tau float32, logZ float64, n int) *autograd.Value {
	b, m := checkBank("NCE", v, pos, noise, tau)
	if n < 1 || math.IsNaN(logZ) || math.IsInf(logZ, 0) {
		panic(fmt.Sprintf("loss.NCE: data size %d and log Z %v, want ≥ 1 and finite", n, logZ))
	}
	x := InfoNCELogits(v, pos, noise, tau) // [B, 1+m] scores / τ, the positive in column 0
	x = autograd.AddScalar(x, float32(-logZ-math.Log(float64(m)/float64(n))))
	zeros, targets := nceConsts(b, m)
	pairs := autograd.Concat(1, autograd.Reshape(x, b*(1+m), 1), autograd.Const(zeros)) // [B(1+m), 2]
	return autograd.Scale(autograd.CrossEntropy(pairs, targets), float32(1+m))
}

// NCELogZ estimates InstDisc's normalising constant once, by Monte Carlo
// from a batch, as the paper and lemniscate.pytorch do ("we estimate it
// from the first batch and keep it fixed"): Z ≈ N · mean exp(s/τ) over the
// B(1+m) scores s of the positives and the noise. It returns log Z,
// computed in float64 outside any graph.
//
//	v [B, D], pos [B, D], noise [m, D]
func NCELogZ(v, pos, noise *tensor.Tensor, tau float32, n int) float64 {
	b, m := checkBank("NCELogZ", autograd.Const(v), autograd.Const(pos), autograd.Const(noise), tau)
	if n < 1 {
		panic(fmt.Sprintf("loss.NCELogZ: data size %d, want ≥ 1", n))
	}
	d := v.Dim(1)
	neg := make([]float32, b*m)
	kernels.Sgemm(false, true, b, m, d, 1, v.Data, d, noise.Data, d, 0, neg, m)
	scores := make([]float64, 0, b*(1+m))
	for i := 0; i < b; i++ {
		var s float64
		for j := 0; j < d; j++ {
			s += float64(v.Data[i*d+j]) * float64(pos.Data[i*d+j])
		}
		scores = append(scores, s/float64(tau))
	}
	for _, s := range neg {
		scores = append(scores, float64(s)/float64(tau))
	}
	hi := math.Inf(-1)
	for _, s := range scores {
		hi = max(hi, s)
	}
	var sum float64
	for _, s := range scores {
		sum += math.Exp(s - hi)
	}
	return math.Log(float64(n)) + hi + math.Log(sum/float64(len(scores)))
}

// NonParametricSoftmax is InstDisc's Eq. 2 over the whole bank: the
// probability that v_b is instance i_b is exp(v_bᵀm_{i_b}/τ) / Σ_j
// exp(v_bᵀm_j/τ), and L = −(1/B) Σ_b log P(i_b | v_b). targets are the
// batch's dataset indices (rows of bank).
//
//	v [B, D], bank [N, D], targets B indices in [0, N) → scalar
func NonParametricSoftmax(v, bank *autograd.Value, targets []int, tau float32) *autograd.Value {
	sv, sb := v.Shape(), bank.Shape()
	if len(sv) != 2 || len(sb) != 2 || sv[1] != sb[1] || sv[0] == 0 || sv[0] != len(targets) {
		panic(fmt.Sprintf("loss.NonParametricSoftmax: v %v, bank %v, %d targets; want [B, D], [N, D] and B targets", sv, sb, len(targets)))
	}
	checkTau("NonParametricSoftmax", tau)
	return autograd.CrossEntropy(autograd.Scale(autograd.MatMul(v, bank, false, true), 1/tau), targets)
}

// Proximal is InstDisc's proximal regularisation (arXiv:1805.01978 §3.4,
// Eq. 9): λ‖v_i^(t) − v_i^(t−1)‖², where v_i^(t−1) is the sample's
// previous embedding, its bank row. It is averaged over the batch like
// the NCE term it is added to (the paper uses λ = 30).
//
//	v [B, D], prev [B, D] → λ/B Σ_b ‖v_b − prev_b‖²
func Proximal(v, prev *autograd.Value, lambda float32) *autograd.Value {
	sv, sp := v.Shape(), prev.Shape()
	if len(sv) != 2 || !tensor.EqualShape(sv, sp) || sv[0] == 0 {
		panic(fmt.Sprintf("loss.Proximal: v %v and prev %v, want two equal [B, D]", sv, sp))
	}
	if lambda < 0 || math.IsNaN(float64(lambda)) || math.IsInf(float64(lambda), 0) {
		panic(fmt.Sprintf("loss.Proximal: λ = %v, want finite and ≥ 0", lambda))
	}
	d := autograd.Sub(v, prev)
	return autograd.Scale(autograd.Sum(autograd.Mul(d, d), nil, false), lambda/float32(sv[0]))
}

// checkBank panics unless v and pos are equal [B, D] with B ≥ 1, noise is
// [m, D] with m ≥ 1 and tau > 0; it returns B and m.
func checkBank(op string, v, pos, noise *autograd.Value, tau float32) (b, m int) {
	sv, sp, sn := v.Shape(), pos.Shape(), noise.Shape()
	if len(sv) != 2 || !tensor.EqualShape(sv, sp) || len(sn) != 2 || sn[1] != sv[1] || sv[0] == 0 || sn[0] == 0 {
		panic(fmt.Sprintf("loss.%s: v %v, pos %v, noise %v; want [B, D], [B, D], [m, D] with B, m ≥ 1", op, sv, sp, sn))
	}
	checkTau(op, tau)
	return sv[0], sn[0]
}

func checkTau(op string, tau float32) {
	if !(tau > 0) || math.IsInf(float64(tau), 0) {
		panic(fmt.Sprintf("loss.%s: temperature %v, want > 0", op, tau))
	}
}

type nceConst struct {
	zeros   *tensor.Tensor
	targets []int
}

var nceCache = struct {
	sync.Mutex
	m map[[2]int]nceConst
}{m: map[[2]int]nceConst{}}

// nceConsts returns the zero logit column [B(1+m), 1] and the binary
// targets (0 for the positive of each row of scores, 1 for noise) for
// batch size b and m noise samples, built once per (b, m). Neither is ever
// written. Only the most recent shapes are kept: a run uses one or two.
func nceConsts(b, m int) (*tensor.Tensor, []int) {
	nceCache.Lock()
	defer nceCache.Unlock()
	key := [2]int{b, m}
	if c, ok := nceCache.m[key]; ok {
		return c.zeros, c.targets
	}
	if len(nceCache.m) >= 4 {
		clear(nceCache.m)
	}
	n := b * (1 + m)
	t := make([]int, n)
	for i := range t {
		if i%(1+m) != 0 {
			t[i] = 1
		}
	}
	c := nceConst{tensor.New(n, 1), t}
	nceCache.m[key] = c
	return c.zeros, c.targets
}
