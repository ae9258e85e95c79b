package loss

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// SupCon is the supervised contrastive loss of Khosla et al. (arXiv:2004.11362,
// Eq. 2, L^sup_out) over the V·N rows of z [V·N, D] (V views of N images,
// view-major: row v·N+i is view v of image i) with labels [N]: every other
// row of the same label is a positive,
//
//	L = (1/(V·N)) Σ_i −(1/|P(i)|) Σ_{p∈P(i)} log( exp(z_i·z_p/τ) / Σ_{a≠i} exp(z_i·z_a/τ) )
//
// with z L2-normalised; the released code's factor τ/τ_base is 1 here
// (τ_base = τ). Each image's other views are always positives, so P(i) is
// never empty for V ≥ 2. SupCon panics if the rows are not V·N for some
// V ≥ 2, a label is negative, or τ ≤ 0.
func SupCon(z *autograd.Value, labels []int, tau float32) *autograd.Value {
	s := z.Shape()
	n := len(labels)
	if len(s) != 2 || n == 0 || s[0]%n != 0 || s[0]/n < 2 {
		panic(fmt.Sprintf("loss.SupCon: embeddings %v for %d labels, want [V·N, D] with V ≥ 2", s, n))
	}
	if !(tau > 0) || math.IsInf(float64(tau), 0) {
		panic(fmt.Sprintf("loss.SupCon: temperature %v, want > 0", tau))
	}
	for _, l := range labels {
		if l < 0 {
			panic("loss.SupCon: negative label (unlabelled sample): SupCon needs every label")
		}
	}
	m := s[0]
	zn := autograd.L2Normalize(z, normEps)
	logits := autograd.Scale(autograd.MatMul(zn, zn, false, true), 1/tau)
	// Self-similarities leave the denominator; positives are weighted 1/|P(i)|.
	mask := tensor.New(m, m)
	w := tensor.New(m, m)
	for i := 0; i < m; i++ {
		mask.Data[i*m+i] = maskValue
		var pos []int
		for j := 0; j < m; j++ {
			if j != i && labels[j%n] == labels[i%n] {
				pos = append(pos, j)
			}
		}
		for _, j := range pos {
			w.Data[i*m+j] = 1 / float32(len(pos))
		}
	}
	logp := autograd.LogSoftmax(autograd.Add(logits, autograd.Const(mask)))
	return autograd.Scale(autograd.Sum(autograd.Mul(logp, autograd.Const(w)), nil, false), -1/float32(m))
}
