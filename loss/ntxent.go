package loss

import (
	"fmt"
	"math"
	"sync"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// NTXent is SimCLR's normalized temperature-scaled cross-entropy loss
// (Chen et al., "A Simple Framework for Contrastive Learning of Visual
// Representations", arXiv:2002.05709, Eq. 1 and Algorithm 1). z1 and z2
// [N, D] are the projections of two views of the same N images; with
// z = [z1; z2] (2N rows) and sim(u, v) = uᵀv/(‖u‖‖v‖),
//
//	ℓ(i, j) = −log( exp(sim(z_i, z_j)/τ) / Σ_{k≠i} exp(sim(z_i, z_k)/τ) )
//	L = 1/(2N) Σ_{i<N} [ℓ(i, i+N) + ℓ(i+N, i)]
//
// Built from autograd ops: L2Normalize the 2N rows, MatMul them into the
// [2N, 2N] similarity matrix, scale by 1/τ, push the diagonal (k = i) to
// −1e9 so that it drops out of the softmax, and take CrossEntropy with
// targets i+N for the first N rows and i−N for the others. For N = 1 the
// loss is 0; for 2N identical embeddings it is log(2N−1).
//
// NTXent panics if z1 and z2 are not both [N, D] or tau ≤ 0.
func NTXent(z1, z2 *autograd.Value, tau float32) *autograd.Value {
	s1, s2 := z1.Shape(), z2.Shape()
	if len(s1) != 2 || !tensor.EqualShape(s1, s2) || s1[0] == 0 {
		panic(fmt.Sprintf("loss.NTXent: views of shapes %v and %v, want two equal [N, D] with N ≥ 1", s1, s2))
	}
	if !(tau > 0) || math.IsInf(float64(tau), 0) {
		panic(fmt.Sprintf("loss.NTXent: temperature %v, want > 0", tau))
	}
	n := s1[0]
	z := autograd.L2Normalize(autograd.Concat(0, z1, z2), normEps) // [2N, D]
	sim := autograd.MatMul(z, z, false, true)                      // [2N, 2N]
	mask, targets := ntxentConsts(n)
	logits := autograd.Add(autograd.Scale(sim, 1/tau), autograd.Const(mask))
	return autograd.CrossEntropy(logits, targets)
}

// normEps is torch.nn.functional.normalize's default eps.
const normEps = 1e-12

// maskValue replaces the self-similarities: exp(−1e9 − max) is exactly 0
// in float32, so they drop out of the softmax and receive no gradient.
const maskValue = -1e9

type ntxentConst struct {
	mask    *tensor.Tensor
	targets []int
}

var ntxentCache = struct {
	sync.Mutex
	m map[int]ntxentConst
}{m: map[int]ntxentConst{}}

// ntxentConsts returns the [2N, 2N] diagonal mask and the positive-pair
// targets for batch size n, built once per n. Neither is ever written.
func ntxentConsts(n int) (*tensor.Tensor, []int) {
	ntxentCache.Lock()
	defer ntxentCache.Unlock()
	if c, ok := ntxentCache.m[n]; ok {
		return c.mask, c.targets
	}
	m := tensor.New(2*n, 2*n)
	t := make([]int, 2*n)
	for i := 0; i < 2*n; i++ {
		m.Data[i*2*n+i] = maskValue
		t[i] = (i + n) % (2 * n)
	}
	ntxentCache.m[n] = ntxentConst{m, t}
	return m, t
}
