package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Param is a named trainable parameter.
type Param struct {
	Name  string
	Value *autograd.Value
}

// Params converts any slice of structs with Param's fields (nn.Param) into
// a []Param.
func Params[P ~struct {
	Name  string
	Value *autograd.Value
}](ps []P) []Param {
	out := make([]Param, len(ps))
	for i, p := range ps {
		out[i] = Param(p)
	}
	return out
}

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step applies one update with the current learning rate.
	Step()
	// ZeroGrad zeroes every parameter's gradient.
	ZeroGrad()
	// LR returns the current learning rate; SetLR changes it (schedules
	// call it before every Step).
	LR() float64
	SetLR(lr float64)
	// State returns the optimizer's buffers by name; the tensors are the
	// live buffers, not copies.
	State() map[string]*tensor.Tensor
	// LoadState copies saved buffers into the optimizer. It returns an
	// error listing every missing, unexpected or mis-shaped name.
	LoadState(st map[string]*tensor.Tensor) error
}

// Exclude reports whether a parameter is excluded from weight decay (and,
// for LARS, from the trust-ratio adaptation).
type Exclude func(name string, shape []int) bool

// ExcludeBiasAndNorm excludes every parameter with at most one dimension:
// biases and batch-norm γ, β. This is the usual exclusion of SimCLR, SwAV
// and solo-learn's exclude_bias_n_norm.
func ExcludeBiasAndNorm(name string, shape []int) bool { return len(shape) <= 1 }

func excluded(ex Exclude, p Param) bool {
	return ex != nil && ex(p.Name, p.Value.Data.Shape())
}

// active reports whether p takes part in a step.
func active(p Param) bool { return p.Value.RequiresGrad() && p.Value.Grad != nil }

func zeroGrads(ps []Param) {
	for _, p := range ps {
		p.Value.ZeroGrad()
	}
}

func checkParams(op string, ps []Param) error {
	seen := map[string]bool{}
	for i, p := range ps {
		if p.Value == nil || p.Value.Data == nil {
			return fmt.Errorf("optim.%s: parameter %d (%q) is nil", op, i, p.Name)
		}
		if p.Name == "" {
			return fmt.Errorf("optim.%s: parameter %d has no name", op, i)
		}
		if seen[p.Name] {
			return fmt.Errorf("optim.%s: duplicate parameter name %q", op, p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}

func newBuffers(ps []Param) []*tensor.Tensor {
	b := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		b[i] = tensor.New(p.Value.Data.Shape()...)
	}
	return b
}

// loadState checks st against want (name → live tensor) and copies.
func loadState(op string, want map[string]*tensor.Tensor, st map[string]*tensor.Tensor) error {
	var missing, unexpected, shape []string
	for name, dst := range want {
		src, ok := st[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case !tensor.SameShape(src, dst):
			shape = append(shape, fmt.Sprintf("%s: saved %v, optimizer %v", name, src.Shape(), dst.Shape()))
		}
	}
	for name := range st {
		if _, ok := want[name]; !ok {
			unexpected = append(unexpected, name)
		}
	}
	if len(missing)+len(unexpected)+len(shape) > 0 {
		sort.Strings(missing)
		sort.Strings(unexpected)
		sort.Strings(shape)
		var parts []string
		if len(missing) > 0 {
			parts = append(parts, "missing: "+strings.Join(missing, ", "))
		}
		if len(unexpected) > 0 {
			parts = append(parts, "unexpected: "+strings.Join(unexpected, ", "))
		}
		if len(shape) > 0 {
			parts = append(parts, "shape mismatch: "+strings.Join(shape, "; "))
		}
		return fmt.Errorf("optim.%s.LoadState: state does not match the parameters (%s)", op, strings.Join(parts, "; "))
	}
	for name, dst := range want {
		dst.CopyFrom(st[name])
	}
	return nil
}

// grain is the number of elements one goroutine updates at least.
const grain = 1 << 15

// each runs fn over [0, n) in parallel chunks.
func each(n int, fn func(lo, hi int)) { parallel.For(n, grain, fn) }

// norm2 returns the L2 norm of x, accumulated in float64.
func norm2(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

func checkLR(op string, lr float64) error {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("optim.%s: learning rate %v, want ≥ 0", op, lr)
	}
	return nil
}
