package methods

import (
	"fmt"
	"sort"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// target is a network trained by no gradient: an exponential moving
// average of an online network of the same architecture (BYOL's target,
// MoCo v3's momentum encoder, DINO's teacher). Its parameters and buffers
// are the method's State under prefix; only update writes them, from the
// method's AfterStep.
type target struct {
	prefix string
	root   nn.Module
	ema    momentum
	base   float64 // momentum at step 0; rises to 1 along a half cosine
	total  int     // steps of the run (≤ 0: constant momentum)
	out    *tensor.Tensor
}

// newTarget pairs target with online (same architecture) and copies
// online's weights into it.
func newTarget(prefix string, online, root nn.Module, base float64, total int) *target {
	t := &target{prefix: prefix, root: root, base: base, total: total}
	t.ema.add(online, root)
	return t
}

// forward runs f (the target network's forward) on x without a graph and
// returns its output as a constant, valid until the next forward.
func (t *target) forward(f func(*autograd.Value) *autograd.Value, x *tensor.Tensor) *tensor.Tensor {
	autograd.Inference(func(func(*autograd.Value)) {
		y := f(autograd.Const(x)).Data
		if t.out == nil || !tensor.SameShape(t.out, y) {
			t.out = tensor.New(y.Shape()...)
		}
		copy(t.out.Data, y.Data)
	})
	return t.out
}

// momentumAt is BYOL's cosine schedule from base to 1 over the run.
func (t *target) momentumAt(step int) float64 { return cosineMomentum(t.base, step, t.total) }

// update is θ_t ← m·θ_t + (1−m)·θ_o after optimizer step step.
func (t *target) update(step int) { t.ema.update(t.momentumAt(step)) }

// putState adds the target's tensors to s (batch-norm counters as
// one-element tensors), by name under prefix.
func (t *target) putState(s map[string]*tensor.Tensor) {
	for _, e := range nn.State(t.root) {
		if e.F32 != nil {
			s[t.prefix+e.Name] = e.F32
		} else {
			s[t.prefix+e.Name] = tensor.FromSlice([]float32{float32(*e.I64)}, 1)
		}
	}
}

// loadState restores the target from s, marking the names it used in
// want; a missing or mis-shaped entry is an error naming it.
func (t *target) loadState(method string, s map[string]*tensor.Tensor, want map[string]bool) error {
	entries := nn.State(t.root)
	for _, e := range entries {
		name := t.prefix + e.Name
		want[name] = true
		v, ok := s[name]
		switch {
		case !ok:
			return fmt.Errorf("%s: state has no %s", method, name)
		case e.F32 != nil && !tensor.SameShape(v, e.F32):
			return fmt.Errorf("%s: state %s has shape %v, want %v", method, name, v.Shape(), e.F32.Shape())
		case e.F32 == nil && (len(v.Data) != 1 || v.Data[0] < 0 || v.Data[0] != float32(int64(v.Data[0]))):
			return fmt.Errorf("%s: state %s = %v, want one non-negative integer", method, name, v.Data)
		}
	}
	for _, e := range entries {
		v := s[t.prefix+e.Name]
		if e.F32 != nil {
			copy(e.F32.Data, v.Data)
		} else {
			*e.I64 = int64(v.Data[0])
		}
	}
	return nil
}

// checkExtra reports state entries not in want.
func checkExtra(method string, s map[string]*tensor.Tensor, want map[string]bool) error {
	var extra []string
	for name := range s {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("%s: unexpected state tensors %v", method, extra)
	}
	return nil
}

// noState is LoadState for methods without state outside their networks.
func noState(method string, s map[string]*tensor.Tensor) error {
	if len(s) != 0 {
		return fmt.Errorf("%s: unexpected state tensors (%d)", method, len(s))
	}
	return nil
}

// twoViews checks that b has two views of equal shape and returns them.
func twoViews(method string, b Batch) (*tensor.Tensor, *tensor.Tensor) {
	if len(b.Views) != 2 {
		panic(fmt.Sprintf("%s: want 2 views per image, got %d", method, len(b.Views)))
	}
	return b.Views[0], b.Views[1]
}

// wideDim is the width of the wide projectors of SimSiam, Barlow Twins and
// VICReg when none is set: 4× the encoder's feature width (solo-learn's
// CIFAR recipes use 2048 on ResNet-18's 512).
func wideDim(set, feat int) int {
	if set > 0 {
		return set
	}
	return 4 * feat
}
