package serve

import (
	"context"
	"sync"
)

// batcher runs fn from one goroutine over whatever requests have queued up
// (at most max at once), so that concurrent requests share one forward pass
// or one SGEMM. Admission is bounded by the caller (a limiter), so the
// queue never holds more than the admitted requests.
type batcher[T, R any] struct {
	in   chan batchItem[T, R]
	max  int
	fn   func([]T) ([]R, error)
	quit chan struct{}
	done sync.WaitGroup
	// sizes, when set, is told the size of every batch run.
	sizes func(n int)
}

type batchItem[T, R any] struct {
	v   T
	out chan batchResult[R]
}

type batchResult[R any] struct {
	r   R
	err error
}

func newBatcher[T, R any](queue, max int, fn func([]T) ([]R, error), sizes func(int)) *batcher[T, R] {
	b := &batcher[T, R]{in: make(chan batchItem[T, R], queue), max: max, fn: fn, quit: make(chan struct{}), sizes: sizes}
	b.done.Add(1)
	go b.loop()
	return b
}

func (b *batcher[T, R]) loop() {
	defer b.done.Done()
	var items []batchItem[T, R]
	var vals []T
	for {
		select {
		case it := <-b.in:
			items = append(items[:0], it)
		case <-b.quit:
			return
		}
	more:
		for len(items) < b.max {
			select {
			case it := <-b.in:
				items = append(items, it)
			default:
				break more
			}
		}
		vals = vals[:0]
		for _, it := range items {
			vals = append(vals, it.v)
		}
		if b.sizes != nil {
			b.sizes(len(items))
		}
		rs, err := b.fn(vals)
		for i, it := range items {
			var r R
			if err == nil {
				r = rs[i]
			}
			it.out <- batchResult[R]{r, err}
		}
		clear(items)
	}
}

// do queues v and waits for its result or for ctx to end.
func (b *batcher[T, R]) do(ctx context.Context, v T) (R, error) {
	it := batchItem[T, R]{v: v, out: make(chan batchResult[R], 1)}
	var zero R
	select {
	case b.in <- it:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	select {
	case res := <-it.out:
		return res.r, res.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// close stops the goroutine once the batch in progress is answered.
func (b *batcher[T, R]) close() {
	close(b.quit)
	b.done.Wait()
}

// limiter admits at most cap(l) requests at once; past that tryAcquire
// fails at once and the request is answered 503.
type limiter chan struct{}

func (l limiter) tryAcquire() bool {
	select {
	case l <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l limiter) release() { <-l }
