package methods

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// keyQueue is MoCo's dictionary (He et al., arXiv:1911.05722, §3.2): a
// FIFO queue of K keys of width D, "the current mini-batch is enqueued to
// the dictionary, and the oldest mini-batch in the queue is removed". The
// keys are the rows of Keys [K, D] used as a ring: Ptr is the row of the
// oldest key, where the next batch is written. moco/builder.py stores the
// transpose ([D, K]) and asserts K % batch_size == 0; here a batch that
// does not divide K simply wraps around the end of the ring, and the order
// of the rows does not matter to the loss.
type keyQueue struct {
	Keys *tensor.Tensor // [K, D]
	Ptr  int
}

// newKeyQueue returns a queue of k random unit keys of width d, as
// moco/builder.py initialises it (normal samples, L2-normalised).
func newKeyQueue(k, d int, rng *rand.Rand) *keyQueue {
	if k < 1 || d < 1 {
		panic(fmt.Sprintf("methods.newKeyQueue: K = %d, D = %d, want both ≥ 1", k, d))
	}
	q := &keyQueue{Keys: tensor.New(k, d)}
	for i := 0; i < k; i++ {
		row := q.Keys.Data[i*d : (i+1)*d]
		var ss float64
		for j := range row {
			x := rng.NormFloat64()
			row[j] = float32(x)
			ss += x * x
		}
		inv := float32(1 / max(math.Sqrt(ss), 1e-12))
		for j := range row {
			row[j] *= inv
		}
	}
	return q
}

// Len returns K.
func (q *keyQueue) Len() int { return q.Keys.Dim(0) }

// enqueue writes the B keys [B, D] over the B oldest (dequeuing them) and
// advances Ptr by B modulo K. When B > K only the last K keys stay.
func (q *keyQueue) enqueue(keys *tensor.Tensor) {
	k, d := q.Keys.Dim(0), q.Keys.Dim(1)
	if keys.Rank() != 2 || keys.Dim(1) != d {
		panic(fmt.Sprintf("methods.keyQueue.enqueue: keys %v for a queue of width %d", keys.Shape(), d))
	}
	b := keys.Dim(0)
	for i := max(0, b-k); i < b; i++ {
		r := (q.Ptr + i) % k
		copy(q.Keys.Data[r*d:(r+1)*d], keys.Data[i*d:(i+1)*d])
	}
	q.Ptr = (q.Ptr + b) % k
}

// putState adds the queue to s as name [K, D] and name+"_ptr" [1].
func (q *keyQueue) putState(s map[string]*tensor.Tensor, name string) {
	s[name] = q.Keys
	s[name+"_ptr"] = tensor.FromSlice([]float32{float32(q.Ptr)}, 1)
}

// loadState restores the queue from s, as putState wrote it.
func (q *keyQueue) loadState(s map[string]*tensor.Tensor, name string) error {
	keys, ptr := s[name], s[name+"_ptr"]
	if keys == nil || ptr == nil {
		return fmt.Errorf("state has no %s and %s_ptr", name, name)
	}
	if !tensor.SameShape(keys, q.Keys) {
		return fmt.Errorf("state %s has shape %v, want %v", name, keys.Shape(), q.Keys.Shape())
	}
	if ptr.Numel() != 1 {
		return fmt.Errorf("state %s_ptr has shape %v, want [1]", name, ptr.Shape())
	}
	p := ptr.Data[0]
	if p != float32(int(p)) || int(p) < 0 || int(p) >= q.Len() {
		return fmt.Errorf("state %s_ptr = %v, want an integer in [0, %d)", name, p, q.Len())
	}
	copy(q.Keys.Data, keys.Data)
	q.Ptr = int(p)
	return nil
}
