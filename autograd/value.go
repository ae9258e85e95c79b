package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Value is a node of the computation graph: a tensor, its gradient (nil
// until Backward reaches it) and how it was computed.
type Value struct {
	Data *tensor.Tensor
	Grad *tensor.Tensor
	// Name is optional, for messages and parameter listings.
	Name string

	op           Op
	requiresGrad bool
	ownsData     bool // Data came from the pool and is returned by Free
	parents      []*Value
	backward     func(g *tensor.Tensor) // accumulates into parents' grads
	saved        []*tensor.Tensor       // pooled buffers kept for backward, freed by Free
	mark         uint32
}

// Param returns a leaf that requires a gradient (a trainable parameter).
func Param(t *tensor.Tensor) *Value { return &Value{Data: t, requiresGrad: true} }

// Const returns a leaf that needs no gradient (an input, a label, a buffer).
func Const(t *tensor.Tensor) *Value { return &Value{Data: t} }

// Op returns the operation that produced v.
func (v *Value) Op() Op { return v.op }

// Parents returns the inputs of the op that produced v (nil for leaves and
// for values computed without a graph).
func (v *Value) Parents() []*Value { return v.parents }

// RequiresGrad reports whether gradients flow into v.
func (v *Value) RequiresGrad() bool { return v.requiresGrad }

// SetRequiresGrad turns gradient tracking of a leaf on or off (freezing).
func (v *Value) SetRequiresGrad(b bool) {
	if v.op != OpLeaf {
		panic(fmt.Sprintf("autograd.SetRequiresGrad: %s output is not a leaf", v.op))
	}
	v.requiresGrad = b
}

// Shape returns the shape of v's data.
func (v *Value) Shape() []int { return v.Data.Shape() }

// Item returns the value of a one-element Value.
func (v *Value) Item() float32 { return v.Data.Item() }

// ZeroGrad drops v's gradient, returning the buffer to the pool for
// non-leaves and zeroing it in place for leaves.
func (v *Value) ZeroGrad() {
	if v.Grad == nil {
		return
	}
	if v.op == OpLeaf {
		v.Grad.Zero()
		return
	}
	tensor.Put(v.Grad)
	v.Grad = nil
}

// GradBuf returns v's gradient buffer, allocating a zeroed one (from the
// pool) the first time. Backward rules accumulate into it.
func (v *Value) GradBuf() *tensor.Tensor {
	if v.Grad == nil {
		v.Grad = tensor.Get(v.Data.Shape()...)
	}
	return v.Grad
}

// addGrad accumulates g (v's shape, len(g) = v.Data.Numel()) into v's
// gradient. The first contribution is copied into a buffer taken
// without zeroing, which saves a pass over the memory and a read of the
// zeros against GradBuf + add: on large activations (a residual sum's
// two inputs) both passes are memory-bound.
func (v *Value) addGrad(g []float32) {
	if v.Grad == nil {
		v.Grad = tensor.GetDirty(v.Data.Shape()...)
		d := v.Grad.Data
		forChunks(len(d), func(lo, hi int) { copy(d[lo:hi], g[lo:hi]) })
		return
	}
	d := v.Grad.Data
	forChunks(len(d), func(lo, hi int) { kernels.Axpy(d[lo:hi], 1, g[lo:hi]) })
}

// gradMode is true unless inside NoGrad. The engine records graphs from one
// goroutine at a time; NoGrad is not meant to be called concurrently with
// graph construction on another goroutine.
var gradMode = true

// GradEnabled reports whether ops record the graph.
func GradEnabled() bool { return gradMode }

// NoGrad runs fn with graph recording off: ops compute values only.
func NoGrad(fn func()) {
	old := gradMode
	gradMode = false
	defer func() { gradMode = old }()
	fn()
}

// needsGrad reports whether an op over these inputs must record a graph.
func needsGrad(inputs ...*Value) bool {
	if !gradMode {
		return false
	}
	for _, in := range inputs {
		if in != nil && in.requiresGrad {
			return true
		}
	}
	return false
}

// newResult wraps an op's output. When any input requires a gradient (and
// grad mode is on) it records the inputs and the backward rule; otherwise
// backward is dropped. out must come from the pool (tensor.Get) unless
// view is true, in which case it shares memory with an input.
func newResult(op Op, out *tensor.Tensor, view bool, backward func(g *tensor.Tensor), inputs ...*Value) *Value {
	v := &Value{Data: out, op: op, ownsData: !view}
	if needsGrad(inputs...) {
		v.requiresGrad = true
		v.parents = inputs
		v.backward = backward
	} else if arena != nil {
		arena.vals = append(arena.vals, v)
	}
	return v
}

// scratch collects the op outputs created inside Inference.
type scratch struct{ vals []*Value }

var arena *scratch

// Inference runs fn with graph recording off (like NoGrad) and then
// returns to the pool every buffer that ops inside fn produced, except the
// values passed to keep: those stay valid and the caller frees them (with
// Free) when done. Use it for forward passes whose intermediates are not
// needed afterwards (feature extraction, momentum encoders), so they too
// allocate next to nothing after warm-up.
func Inference(fn func(keep func(*Value))) {
	old, oldMode := arena, gradMode
	a := &scratch{}
	arena, gradMode = a, false
	kept := map[*Value]bool{}
	defer func() {
		arena, gradMode = old, oldMode
		for _, v := range a.vals {
			if kept[v] {
				if old != nil {
					old.vals = append(old.vals, v)
				}
				continue
			}
			if v.ownsData {
				tensor.Put(v.Data)
			}
			v.Data = nil
			for _, s := range v.saved {
				tensor.Put(s)
			}
			v.saved = nil
		}
	}()
	fn(func(v *Value) { kept[v] = true })
}

// save keeps pooled buffers alive until Free (argmax indices, masks,
// batch statistics). They are dropped at Free.
func (v *Value) save(ts ...*tensor.Tensor) { v.saved = append(v.saved, ts...) }

var markGen uint32

// topo returns the graph below root in topological order (inputs first).
func topo(root *Value) []*Value {
	markGen++
	gen := markGen
	var order []*Value
	type frame struct {
		v *Value
		i int
	}
	stack := []frame{{root, 0}}
	root.mark = gen
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.i < len(top.v.parents) {
			p := top.v.parents[top.i]
			top.i++
			if p != nil && p.mark != gen {
				p.mark = gen
				stack = append(stack, frame{p, 0})
			}
			continue
		}
		order = append(order, top.v)
		stack = stack[:len(stack)-1]
	}
	return order
}

// Backward computes the gradient of root (a one-element Value) with respect
// to every Value below it that requires a gradient, accumulating into Grad.
// Only leaves (and root) keep their gradients: an op result's gradient is
// released once its backward has run.
func Backward(root *Value) {
	if root.Data.Numel() != 1 {
		panic(fmt.Sprintf("autograd.Backward: root has shape %v, want one element", root.Shape()))
	}
	BackwardWith(root, tensor.Full(1, root.Shape()...))
}

// BackwardWith runs backward from root seeded with gradient seed (same shape).
func BackwardWith(root *Value, seed *tensor.Tensor) { backward(root, seed, nil) }

func backward(root *Value, seed *tensor.Tensor, ready func(*Value)) {
	if !root.requiresGrad {
		return
	}
	if !tensor.SameShape(seed, root.Data) {
		panic(fmt.Sprintf("autograd.Backward: seed shape %v for root %v", seed.Shape(), root.Shape()))
	}
	g := root.GradBuf()
	for i, x := range seed.Data {
		g.Data[i] += x
	}
	order := topo(root)
	var fire [][]*Value
	if ready != nil {
		fire = readyAfter(order)
	}
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		if v.backward != nil && v.Grad != nil {
			v.backward(v.Grad)
			if v.op != OpLeaf && v != root {
				// Every consumer has added into v.Grad and v has passed it
				// on: release it (as PyTorch frees non-leaf gradients), so
				// the inputs' gradient buffers reuse it from the pool and a
				// step holds its activations plus a few gradients, not two
				// full sets.
				tensor.Put(v.Grad)
				v.Grad = nil
			}
		}
		if fire != nil {
			for _, leaf := range fire[i] {
				if leaf.Grad != nil {
					ready(leaf)
				}
			}
		}
	}
}

// Free returns every pooled buffer of the graph below root (op outputs,
// their gradients, saved buffers) to the tensor pool and cuts the graph.
// Leaves keep their data and gradients. Values below root must not be used
// afterwards.
func Free(root *Value) {
	for _, v := range topo(root) {
		if v.op == OpLeaf {
			continue
		}
		if v.ownsData {
			tensor.Put(v.Data)
		}
		v.Data = nil
		tensor.Put(v.Grad)
		v.Grad = nil
		for _, s := range v.saved {
			tensor.Put(s)
		}
		v.saved = nil
		v.parents = nil
		v.backward = nil
	}
}
