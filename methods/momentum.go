package methods

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// momentum keeps target networks as exponential moving averages of online
// networks of the same architecture, parameter by parameter:
//
//	θ_t ← m·θ_t + (1−m)·θ_o
//
// MoCo's key encoder follows its query encoder this way (He et al.,
// arXiv:1911.05722, Eq. 2); BYOL-style targets would too. Methods embed
// one and add each (online, target) module pair, like solo-learn's
// momentum_pairs. Only parameters are averaged: a target's batch-norm
// running statistics come from its own forward passes, as in MoCo's
// builder, which zips parameters() only.
//
// The targets' parameters are plain tensors outside the optimizer and
// outside every loss graph; update is the only thing that writes them.
type momentum struct {
	pairs []momentumPair
}

type momentumPair struct {
	name           string // the target's parameter name
	online, target *tensor.Tensor
}

// add pairs the parameters of online and target by position, which must
// match in name and shape (the same architecture), and initialises target
// as a copy of online, buffers included: θ_t ← θ_o ("f_k.params =
// f_q.params" in Algorithm 1). It panics when the modules differ.
func (m *momentum) add(online, target nn.Module) {
	on, ts := nn.State(online), nn.State(target)
	if len(on) != len(ts) {
		panic(fmt.Sprintf("methods.momentum: online has %d tensors, target %d", len(on), len(ts)))
	}
	for i, o := range on {
		t := ts[i]
		switch {
		case o.Name != t.Name:
			panic(fmt.Sprintf("methods.momentum: tensor %d is %q online, %q in the target", i, o.Name, t.Name))
		case o.F32 != nil && t.F32 != nil && tensor.SameShape(o.F32, t.F32):
			copy(t.F32.Data, o.F32.Data)
		case o.I64 != nil && t.I64 != nil:
			*t.I64 = *o.I64
		default:
			panic(fmt.Sprintf("methods.momentum: %s differs in kind or shape between online and target", o.Name))
		}
	}
	op, tp := nn.Params(online), nn.Params(target)
	for i, p := range op {
		m.pairs = append(m.pairs, momentumPair{name: tp[i].Name, online: p.Value.Data, target: tp[i].Value.Data})
	}
}

// update moves every target parameter towards its online parameter:
// θ_t ← mom·θ_t + (1−mom)·θ_o, rounded as PyTorch's
// param_k·m + param_q·(1 − m) is: 1 − m in float64, then three float32
// operations (the conversions keep the compiler from fusing them).
func (m *momentum) update(mom float64) {
	if !(mom >= 0 && mom <= 1) {
		panic(fmt.Sprintf("methods.momentum: momentum %v, want 0 ≤ m ≤ 1", mom))
	}
	m32, rest := float32(mom), float32(1-mom)
	for _, p := range m.pairs {
		t, o := p.target.Data, p.online.Data
		parallel.For(len(t), 1<<15, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				t[i] = float32(t[i]*m32) + float32(o[i]*rest)
			}
		})
	}
}

// cosineMomentum is BYOL's schedule (Grill et al., arXiv:2006.07733,
// §3.2): m rises from base to 1 along a half cosine over total steps,
//
//	m_t = 1 − (1 − base)·(cos(πt/T) + 1)/2,
//
// and stays at 1 afterwards. total ≤ 0 means a constant base.
func cosineMomentum(base float64, step, total int) float64 {
	if total <= 0 {
		return base
	}
	if step >= total {
		return 1
	}
	return 1 - (1-base)*(math.Cos(math.Pi*float64(step)/float64(total))+1)/2
}
