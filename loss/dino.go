package loss

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// DINO is the self-distillation loss of Caron et al., "Emerging Properties
// in Self-Supervised Vision Transformers" (arXiv:2104.14294, Eq. 3 and
// Algorithm 1, as DINOLoss in the released main_dino.py). student holds
// the student's outputs [V·N, K] for V crops of N images, crop-major (the
// global crops first); teacher holds the teacher's outputs [G·N, K] for
// the G = g global crops (a constant), and center [K] the teacher's running
// centre c:
//
//	P_t = softmax((t − c)/τ_t)       per teacher row (centring, sharpening)
//	log P_s = log_softmax(s/τ_s)
//	L = mean over pairs (g, v), g < G, v < V, v ≠ g, of
//	    (1/N) Σ_n −P_t[g·N+n] · log P_s[v·N+n]
//
// DINO panics if the shapes disagree or a temperature is not positive.
func DINO(student *autograd.Value, teacher, center *tensor.Tensor, g int, tauS, tauT float32) *autograd.Value {
	ss, ts := student.Shape(), teacher.Shape()
	if len(ss) != 2 || len(ts) != 2 || ss[1] != ts[1] || center.Numel() != ts[1] || g < 1 || ts[0] == 0 || ts[0]%g != 0 {
		panic(fmt.Sprintf("loss.DINO: student %v, teacher %v, center %v", ss, ts, center.Shape()))
	}
	if !(tauS > 0) || !(tauT > 0) || math.IsInf(float64(tauS), 0) || math.IsInf(float64(tauT), 0) {
		panic(fmt.Sprintf("loss.DINO: temperatures %v (student), %v (teacher), want > 0", tauS, tauT))
	}
	k := ts[1]
	n := ts[0] / g
	if ss[0]%n != 0 || ss[0]/n < g || ss[0]/n < 2 {
		panic(fmt.Sprintf("loss.DINO: student %v and teacher %v: want V·N student rows, V ≥ G, for G·N teacher rows", ss, ts))
	}
	v := ss[0] / n
	pt := TeacherProbs(teacher, center, tauT) // [G·N, K]
	logps := autograd.LogSoftmax(autograd.Scale(student, 1/tauS))
	// weights W [V·N, K]: row v·N+n holds Σ_{g≠v} P_t[g·N+n], so that
	// Σ W ⊙ log P_s sums every pair once.
	w := tensor.New(v*n, k)
	pairs := 0
	for gi := 0; gi < g; gi++ {
		for vi := 0; vi < v; vi++ {
			if vi == gi {
				continue
			}
			pairs++
			dst := w.Data[vi*n*k : (vi+1)*n*k]
			src := pt.Data[gi*n*k : (gi+1)*n*k]
			for i := range dst {
				dst[i] += src[i]
			}
		}
	}
	return autograd.Scale(autograd.Sum(autograd.Mul(logps, autograd.Const(w)), nil, false), -1/float32(n*pairs))
}

// TeacherProbs returns softmax((t − c)/τ_t) row by row for the teacher's
// outputs t [M, K] and centre c [K], in float64 accumulation.
func TeacherProbs(t, c *tensor.Tensor, tau float32) *tensor.Tensor {
	m, k := t.Dim(0), t.Dim(1)
	out := tensor.New(m, k)
	for i := 0; i < m; i++ {
		row, o := t.Data[i*k:(i+1)*k], out.Data[i*k:(i+1)*k]
		mx := math.Inf(-1)
		for j, x := range row {
			mx = math.Max(mx, float64((x-c.Data[j])/tau))
		}
		var s float64
		for j, x := range row {
			e := math.Exp(float64((x-c.Data[j])/tau) - mx)
			o[j] = float32(e)
			s += e
		}
		for j := range o {
			o[j] = float32(float64(o[j]) / s)
		}
	}
	return out
}

// UpdateCenter moves DINO's centre towards the batch mean of the teacher's
// outputs t [M, K]: c ← m·c + (1−m)·mean_rows(t) (Eq. 4).
func UpdateCenter(c, t *tensor.Tensor, m float32) {
	rows, k := t.Dim(0), t.Dim(1)
	mean := make([]float64, k)
	for i := 0; i < rows; i++ {
		for j, x := range t.Data[i*k : (i+1)*k] {
			mean[j] += float64(x)
		}
	}
	for j := range c.Data {
		c.Data[j] = c.Data[j]*m + float32(mean[j]/float64(rows))*(1-m)
	}
}
