package autograd

// Stubs for the non-convolution ops; each is deleted when its op_<name>.go lands.

import (
	"math/rand/v2"

	"contrastive/tensor"
)

var _ = tensor.New

func notYet(op string) { panic("autograd." + op + ": not implemented yet") }

// MatMul returns op(a)·op(b) for 2-D a, b.
func MatMul(a, b *Value, transA, transB bool) *Value { notYet("MatMul"); return nil }

// BatchedMatMul returns op(a[i])·op(b[i]) for 3-D a, b.
func BatchedMatMul(a, b *Value, transA, transB bool) *Value { notYet("BatchedMatMul"); return nil }

// Linear returns x·wᵀ + b for x [..., in], w [out, in], b [out] or nil.
func Linear(x, w, b *Value) *Value { notYet("Linear"); return nil }

func Add(a, b *Value) *Value                           { notYet("Add"); return nil }
func Sub(a, b *Value) *Value                           { notYet("Sub"); return nil }
func Mul(a, b *Value) *Value                           { notYet("Mul"); return nil }
func Div(a, b *Value) *Value                           { notYet("Div"); return nil }
func Neg(a *Value) *Value                              { notYet("Neg"); return nil }
func Scale(a *Value, s float32) *Value                 { notYet("Scale"); return nil }
func AddScalar(a *Value, s float32) *Value             { notYet("AddScalar"); return nil }
func Sum(a *Value, axes []int, keepDims bool) *Value   { notYet("Sum"); return nil }
func Mean(a *Value, axes []int, keepDims bool) *Value  { notYet("Mean"); return nil }
func Exp(a *Value) *Value                              { notYet("Exp"); return nil }
func Log(a *Value) *Value                              { notYet("Log"); return nil }
func Sqrt(a *Value) *Value                             { notYet("Sqrt"); return nil }
func Pow(a *Value, p float32) *Value                   { notYet("Pow"); return nil }
func ReLU(a *Value) *Value                             { notYet("ReLU"); return nil }
func L2Normalize(a *Value, eps float32) *Value         { notYet("L2Normalize"); return nil }
func Softmax(a *Value) *Value                          { notYet("Softmax"); return nil }
func LogSoftmax(a *Value) *Value                       { notYet("LogSoftmax"); return nil }
func CrossEntropy(logits *Value, targets []int) *Value { notYet("CrossEntropy"); return nil }
func Concat(axis int, vs ...*Value) *Value             { notYet("Concat"); return nil }
func SliceAxis(a *Value, axis, lo, hi int) *Value      { notYet("SliceAxis"); return nil }
func Split(a *Value, axis int, sizes ...int) []*Value  { notYet("Split"); return nil }
func Reshape(a *Value, shape ...int) *Value            { notYet("Reshape"); return nil }
func Transpose(a *Value) *Value                        { notYet("Transpose"); return nil }
func Permute(a *Value, perm ...int) *Value             { notYet("Permute"); return nil }
func IndexSelect(a *Value, idx []int) *Value           { notYet("IndexSelect"); return nil }
func ScatterRows(n int, idx []int, src *Value) *Value  { notYet("ScatterRows"); return nil }
func Detach(a *Value) *Value                           { notYet("Detach"); return nil }
func Dropout(a *Value, p float32, rng *rand.Rand, training bool) *Value {
	notYet("Dropout")
	return nil
}
