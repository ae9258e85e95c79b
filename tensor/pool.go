package tensor

import "sync"

// The buffer pool keeps released buffers by exact length. A training step
// asks for the same shapes every step, so after the first step every Get is
// served from the pool.
var pool = struct {
	sync.Mutex
	free map[int][][]float32
}{free: map[int][][]float32{}}

// Get returns a zeroed tensor of the given shape, reusing a released buffer
// of the same length when one is available.
func Get(shape ...int) *Tensor {
	t := GetDirty(shape...)
	clear(t.Data)
	return t
}

// GetDirty is Get without zeroing: the contents are arbitrary. Use it for
// outputs that are overwritten completely.
func GetDirty(shape ...int) *Tensor {
	n := checkShape("Get", shape)
	pool.Lock()
	list := pool.free[n]
	var buf []float32
	if k := len(list); k > 0 {
		buf = list[k-1]
		list[k-1] = nil
		pool.free[n] = list[:k-1]
	}
	pool.Unlock()
	if buf == nil {
		buf = make([]float32, n)
	}
	return &Tensor{shape: append(make([]int, 0, 4), shape...), Data: buf}
}

// Put returns t's buffer to the pool. The caller must not use t, or any
// view of it, afterwards. Put(nil) does nothing.
func Put(t *Tensor) {
	if t == nil || cap(t.Data) == 0 {
		return
	}
	buf := t.Data[:cap(t.Data)]
	t.Data = nil
	pool.Lock()
	pool.free[len(buf)] = append(pool.free[len(buf)], buf)
	pool.Unlock()
}

// ResetPool drops every pooled buffer (for tests and after a model change).
func ResetPool() {
	pool.Lock()
	pool.free = map[int][][]float32{}
	pool.Unlock()
}
