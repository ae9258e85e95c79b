package nn

import (
	"fmt"
	"strconv"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Module is a layer or a composition of layers.
type Module interface {
	// Forward computes the module's output for x.
	Forward(x *autograd.Value) *autograd.Value
	// Tensors lists the module's own parameters and buffers (not those of
	// its children), parameters first, in registration order, with names
	// relative to the module ("weight", "running_mean").
	Tensors() []Var
	// Children lists the direct sub-modules in registration order.
	Children() []Child
}

// Var is one tensor a module owns. Exactly one of Param, Buf and Count is
// set.
type Var struct {
	Name  string
	Param *autograd.Value // a trainable parameter (leaf)
	Buf   *tensor.Tensor  // a float buffer (running_mean, running_var)
	Count *int64          // an integer scalar buffer (num_batches_tracked)
}

// Child is a named sub-module.
type Child struct {
	Name   string
	Module Module
}

// Trainer is implemented by modules whose behaviour differs between
// training and evaluation (BatchNorm).
type Trainer interface {
	SetTraining(training bool)
}

// Param is a named trainable parameter, as optimizers take them. Its
// fields match optim.Param, so optim.Params converts a []Param directly.
type Param struct {
	Name  string
	Value *autograd.Value
}

// Entry is one named tensor of a module's state: float data (F32) or an
// int64 scalar (I64, BatchNorm's num_batches_tracked). Its fields match
// checkpoint.Entry, so checkpoint.Entries converts a []Entry directly.
type Entry struct {
	Name string
	F32  *tensor.Tensor
	I64  *int64
}

// Walk calls fn for every module in the tree below m, parents before
// children (pre-order, as PyTorch's named_modules), with the module's
// dotted path ("" for m itself).
func Walk(m Module, fn func(path string, m Module)) {
	walk("", m, fn)
}

func walk(path string, m Module, fn func(string, Module)) {
	fn(path, m)
	for _, c := range m.Children() {
		walk(join(path, c.Name), c.Module, fn)
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// State returns every parameter and buffer below m with its hierarchical
// name, in the order of a PyTorch state_dict: for each module (pre-order)
// its parameters, then its buffers. Parameters share memory with the
// module, so writing into an Entry's F32 loads weights.
func State(m Module) []Entry {
	var out []Entry
	Walk(m, func(path string, m Module) {
		vars := m.Tensors()
		for _, v := range vars {
			if v.Param != nil {
				out = append(out, Entry{Name: join(path, v.Name), F32: v.Param.Data})
			}
		}
		for _, v := range vars {
			switch {
			case v.Param != nil:
			case v.Buf != nil:
				out = append(out, Entry{Name: join(path, v.Name), F32: v.Buf})
			case v.Count != nil:
				out = append(out, Entry{Name: join(path, v.Name), I64: v.Count})
			default:
				panic(fmt.Sprintf("nn.State: %s of %T is empty", join(path, v.Name), m))
			}
		}
	})
	return out
}

// Params returns the trainable parameters below m with their hierarchical
// names, in PyTorch's named_parameters order.
func Params(m Module) []Param {
	var out []Param
	Walk(m, func(path string, m Module) {
		for _, v := range m.Tensors() {
			if v.Param != nil {
				out = append(out, Param{Name: join(path, v.Name), Value: v.Param})
			}
		}
	})
	return out
}

// NumParams returns the number of parameter elements below m.
func NumParams(m Module) int {
	n := 0
	for _, p := range Params(m) {
		n += p.Value.Data.Numel()
	}
	return n
}

// SetTraining switches every module below m that implements Trainer to
// training (true) or evaluation (false) mode.
func SetTraining(m Module, training bool) {
	Walk(m, func(_ string, m Module) {
		if t, ok := m.(Trainer); ok {
			t.SetTraining(training)
		}
	})
}

// ZeroGrad zeroes the gradients of every parameter below m.
func ZeroGrad(m Module) {
	for _, p := range Params(m) {
		p.Value.ZeroGrad()
	}
}

// Sequential applies its children in order. Children built with
// NewSequential are named "0", "1", ... as in torch.nn.Sequential.
type Sequential struct {
	Layers []Child
}

// NewSequential returns a Sequential whose children are named by position.
func NewSequential(mods ...Module) *Sequential {
	s := &Sequential{Layers: make([]Child, len(mods))}
	for i, m := range mods {
		s.Layers[i] = Child{Name: strconv.Itoa(i), Module: m}
	}
	return s
}

// NewNamedSequential returns a Sequential with the given child names.
func NewNamedSequential(children ...Child) *Sequential {
	return &Sequential{Layers: children}
}

// Forward applies the layers in order.
func (s *Sequential) Forward(x *autograd.Value) *autograd.Value {
	for _, c := range s.Layers {
		x = c.Module.Forward(x)
	}
	return x
}

// Tensors returns nil: a Sequential owns no tensors itself.
func (s *Sequential) Tensors() []Var { return nil }

// Children returns the layers.
func (s *Sequential) Children() []Child { return s.Layers }

// Len returns the number of layers.
func (s *Sequential) Len() int { return len(s.Layers) }

// At returns layer i.
func (s *Sequential) At(i int) Module { return s.Layers[i].Module }

// Residual computes Body(x) + Shortcut(x) (Shortcut nil means identity),
// followed by a ReLU when ReLU is set: the shape of a ResNet block. Its
// children are named "body" and "shortcut"; the ResNets in package models
// use their own block types to keep torchvision's names.
type Residual struct {
	Body, Shortcut Module
	ReLU           bool
}

// Forward computes [ReLU](Body(x) + Shortcut(x)).
func (r *Residual) Forward(x *autograd.Value) *autograd.Value {
	id := x
	if r.Shortcut != nil {
		id = r.Shortcut.Forward(x)
	}
	out := autograd.Add(r.Body.Forward(x), id)
	if r.ReLU {
		out = autograd.ReLU(out)
	}
	return out
}

// Tensors returns nil: a Residual owns no tensors itself.
func (r *Residual) Tensors() []Var { return nil }

// Children returns the body and, if set, the shortcut.
func (r *Residual) Children() []Child {
	c := []Child{{Name: "body", Module: r.Body}}
	if r.Shortcut != nil {
		c = append(c, Child{Name: "shortcut", Module: r.Shortcut})
	}
	return c
}
