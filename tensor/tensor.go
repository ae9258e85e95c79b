package tensor

import (
	"fmt"
	"math"
	"strings"
)

// Tensor is a contiguous row-major float32 array.
// Data has exactly Numel() elements; views share Data with their source.
type Tensor struct {
	shape []int
	Data  []float32
}

// New returns a zeroed tensor of the given shape.
func New(shape ...int) *Tensor {
	n := checkShape("New", shape)
	return &Tensor{shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// FromSlice wraps data (not copied) as a tensor of the given shape.
func FromSlice(data []float32, shape ...int) *Tensor {
	n := checkShape("FromSlice", shape)
	if len(data) != n {
		panic(fmt.Sprintf("tensor.FromSlice: %d values for shape %v (%d elements)", len(data), shape, n))
	}
	return &Tensor{shape: append([]int(nil), shape...), Data: data}
}

// Scalar returns a 0-d tensor holding v.
func Scalar(v float32) *Tensor { return &Tensor{shape: []int{}, Data: []float32{v}} }

// Full returns a tensor of the given shape filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := New(shape...)
	t.Fill(v)
	return t
}

func checkShape(op string, shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor.%s: negative dimension in shape %v", op, shape))
		}
		n *= d
	}
	return n
}

// Shape returns the tensor's shape. The caller must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// Dim returns the size of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	if i < 0 || i >= len(t.shape) {
		panic(fmt.Sprintf("tensor.Dim: axis %d out of range for shape %v", i, t.shape))
	}
	return t.shape[i]
}

// Rank returns the number of axes.
func (t *Tensor) Rank() int { return len(t.shape) }

// Numel returns the number of elements.
func (t *Tensor) Numel() int { return len(t.Data) }

// Strides returns the row-major strides (in elements) of the shape.
func (t *Tensor) Strides() []int {
	s := make([]int, len(t.shape))
	acc := 1
	for i := len(t.shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= t.shape[i]
	}
	return s
}

// Item returns the single value of a one-element tensor.
func (t *Tensor) Item() float32 {
	if len(t.Data) != 1 {
		panic(fmt.Sprintf("tensor.Item: shape %v has %d elements, want 1", t.shape, len(t.Data)))
	}
	return t.Data[0]
}

// At returns the element at the given index.
func (t *Tensor) At(idx ...int) float32 { return t.Data[t.offset("At", idx)] }

// Set stores v at the given index.
func (t *Tensor) Set(v float32, idx ...int) { t.Data[t.offset("Set", idx)] = v }

func (t *Tensor) offset(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor.%s: %d indices for shape %v", op, len(idx), t.shape))
	}
	off := 0
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			panic(fmt.Sprintf("tensor.%s: index %v out of range for shape %v", op, idx, t.shape))
		}
		off = off*t.shape[i] + x
	}
	return off
}

// Reshape returns a view with a new shape and the same data. One dimension
// may be -1 and is then inferred.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	return &Tensor{shape: InferShape("Reshape", t.shape, shape), Data: t.Data}
}

// InferShape resolves a -1 in shape against the element count of from and
// panics (naming op) when the counts disagree.
func InferShape(op string, from, shape []int) []int {
	n := 1
	for _, d := range from {
		n *= d
	}
	out := append([]int(nil), shape...)
	known, infer := 1, -1
	for i, d := range out {
		if d == -1 {
			if infer >= 0 {
				panic(fmt.Sprintf("tensor.%s: more than one -1 in shape %v", op, shape))
			}
			infer = i
			continue
		}
		if d < 0 {
			panic(fmt.Sprintf("tensor.%s: negative dimension in shape %v", op, shape))
		}
		known *= d
	}
	if infer >= 0 {
		if known == 0 || n%known != 0 {
			panic(fmt.Sprintf("tensor.%s: cannot reshape %v into %v", op, from, shape))
		}
		out[infer] = n / known
		known *= out[infer]
	}
	if known != n {
		panic(fmt.Sprintf("tensor.%s: cannot reshape %v (%d elements) into %v", op, from, n, shape))
	}
	return out
}

// Slice returns a view of rows [lo, hi) along the first axis.
func (t *Tensor) Slice(lo, hi int) *Tensor {
	if len(t.shape) == 0 || lo < 0 || hi > t.shape[0] || lo > hi {
		panic(fmt.Sprintf("tensor.Slice: [%d:%d] out of range for shape %v", lo, hi, t.shape))
	}
	row := 1
	for _, d := range t.shape[1:] {
		row *= d
	}
	shape := append([]int{hi - lo}, t.shape[1:]...)
	return &Tensor{shape: shape, Data: t.Data[lo*row : hi*row : hi*row]}
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{shape: append([]int(nil), t.shape...), Data: append([]float32(nil), t.Data...)}
}

// CopyFrom copies src's values into t; the element counts must match.
func (t *Tensor) CopyFrom(src *Tensor) {
	if len(src.Data) != len(t.Data) {
		panic(fmt.Sprintf("tensor.CopyFrom: shape %v from %v", t.shape, src.shape))
	}
	copy(t.Data, src.Data)
}

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	if v == 0 {
		clear(t.Data)
		return
	}
	for i := range t.Data {
		t.Data[i] = v
	}
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// SameShape reports whether a and b have identical shapes.
func SameShape(a, b *Tensor) bool { return EqualShape(a.shape, b.shape) }

// EqualShape reports whether two shapes are identical.
func EqualShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// MaxAbsDiff returns max |a-b| over elements; shapes must match in count.
func MaxAbsDiff(a, b *Tensor) float64 {
	if len(a.Data) != len(b.Data) {
		panic(fmt.Sprintf("tensor.MaxAbsDiff: shapes %v and %v", a.shape, b.shape))
	}
	m := 0.0
	for i := range a.Data {
		d := math.Abs(float64(a.Data[i]) - float64(b.Data[i]))
		if d > m || math.IsNaN(d) {
			m = d
		}
	}
	return m
}

// String formats small tensors fully and large ones by shape only.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v", t.shape)
	if len(t.Data) <= 16 {
		fmt.Fprintf(&b, "%v", t.Data)
	}
	return b.String()
}
