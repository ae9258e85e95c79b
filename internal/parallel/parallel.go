// Package parallel owns the goroutines of the engine: every kernel that runs
// on more than one core splits its work through For, so the number of workers
// is decided in one place (GOMAXPROCS) and no kernel starts goroutines of its own.
//
// A training step of a small encoder makes thousands of For calls of a few
// tens of microseconds each, so the cost of one call matters as much as the
// split. For therefore keeps Workers()-1 helper goroutines alive, which spin
// briefly after each call before they park, and hands out the work in
// chunks from a shared counter: the caller works too, and a helper that
// wakes late finds less left to do instead of holding the caller up.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Workers is the number of goroutines For uses at most. It defaults to
// GOMAXPROCS at start-up; SetWorkers changes it (tests force 1 to check
// that results do not depend on the split).
var workers atomic.Int64

func init() { workers.Store(int64(runtime.GOMAXPROCS(0))) }

// Workers reports how many goroutines For may use.
func Workers() int { return int(workers.Load()) }

// SetWorkers sets the number of goroutines For may use and returns the old
// value. n < 1 means GOMAXPROCS.
func SetWorkers(n int) int {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	return int(workers.Swap(int64(n)))
}

// chunksPerWorker is how many chunks For cuts per worker (when the grain
// allows): enough that a late helper costs the caller little, few enough
// that per-chunk set-up stays negligible.
const chunksPerWorker = 4

// spinTime is how long a helper keeps looking for the next call before it
// parks. Calls of one training step follow each other within microseconds.
const spinTime = 50 * time.Microsecond

// job is one For call in flight. A new one is made per call, so a helper
// that picks up a finished job finds its counter exhausted and nothing else.
type job struct {
	fn       func(lo, hi int)
	n, chunk int
	chunks   int64
	helpers  int // helpers that may join (workers-1 at the call)
	next     atomic.Int64
	done     atomic.Int64
	waiting  atomic.Bool // the caller parked on pool.finished
}

// run takes chunks until none is left.
func (j *job) run() {
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			return
		}
		lo := int(c) * j.chunk
		j.fn(lo, min(lo+j.chunk, j.n))
		if j.done.Add(1) == j.chunks && j.waiting.CompareAndSwap(true, false) {
			pool.finished <- struct{}{}
		}
	}
}

// helper is one long-lived goroutine of the pool.
type helper struct {
	id       int
	wake     chan struct{}
	sleeping atomic.Bool
}

func init() { pool.finished = make(chan struct{}, 1) }

var pool struct {
	busy     atomic.Bool // a For call owns the helpers
	cur      atomic.Pointer[job]
	finished chan struct{} // wakes a caller parked on the last chunk
	mu       sync.Mutex    // guards helpers (growth)
	helpers  []*helper
}

// ensureHelpers starts helpers until there are n.
func ensureHelpers(n int) []*helper {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	for len(pool.helpers) < n {
		h := &helper{id: len(pool.helpers), wake: make(chan struct{}, 1)}
		pool.helpers = append(pool.helpers, h)
		go h.loop()
	}
	return pool.helpers[:n]
}

func (h *helper) loop() {
	var last *job
	for {
		j := pool.cur.Load()
		if j == last {
			j = h.await(last)
		}
		last = j
		if h.id < j.helpers {
			j.run()
		}
	}
}

// await spins for a while for a job other than last, then parks until For
// wakes it.
func (h *helper) await(last *job) *job {
	if spin(func() bool { return pool.cur.Load() != last }) {
		return pool.cur.Load()
	}
	h.sleeping.Store(true)
	if j := pool.cur.Load(); j != last {
		// A job came while going to sleep: take it back unless For already
		// claimed the wake-up, in which case its token must be consumed.
		if !h.sleeping.CompareAndSwap(true, false) {
			<-h.wake
		}
		return j
	}
	<-h.wake
	return pool.cur.Load()
}

// For calls fn(lo, hi) over disjoint ranges that cover [0, n), each at least
// grain long (except possibly the last), using up to Workers() goroutines,
// the caller's included. It returns when every call has returned. With one
// worker, when n is smaller than two grains, or when called from inside
// another For (or concurrently with one), fn(0, n) runs on the calling
// goroutine. The ranges depend only on n, grain and Workers(), never on
// timing, so results that depend on the split are still reproducible.
func For(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	w := Workers()
	units := (n + grain - 1) / grain
	if w <= 1 || units <= 1 || !pool.busy.CompareAndSwap(false, true) {
		fn(0, n)
		return
	}
	defer pool.busy.Store(false)
	chunks := min(units, w*chunksPerWorker)
	chunk := (n + chunks - 1) / chunks
	j := &job{fn: fn, n: n, chunk: chunk, chunks: int64((n + chunk - 1) / chunk), helpers: min(w-1, int(chunks)-1)}
	hs := ensureHelpers(j.helpers)
	pool.cur.Store(j)
	for _, h := range hs {
		if h.sleeping.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
	j.run()
	j.wait()
}

// wait returns when every chunk of j is done: it spins for a while (the
// helpers are usually a chunk behind at most), then parks until the last
// chunk's owner wakes it, so that a helper whose thread the OS has taken
// off its core (another process wants it) gets the core back.
func (j *job) wait() {
	if spin(func() bool { return j.done.Load() == j.chunks }) {
		return
	}
	j.waiting.Store(true)
	if j.done.Load() == j.chunks && j.waiting.CompareAndSwap(true, false) {
		return // the last chunk ended before it could see the flag
	}
	<-pool.finished // sent by the last chunk's owner, or on its way
}

// spin polls cond for up to spinTime and reports whether it came true.
func spin(cond func() bool) bool {
	start := time.Now()
	for i := 1; ; i++ {
		if cond() {
			return true
		}
		if i%64 == 0 && time.Since(start) > spinTime {
			return false
		}
	}
}
