// Package parallel owns the goroutines of the engine: every kernel that runs
// on more than one core splits its work through For, so the number of workers
// is decided in one place (GOMAXPROCS) and no kernel starts goroutines of its own.
package parallel

import (
	"runtime"
	"sync"
)

// Workers is the number of goroutines For uses at most. It defaults to
// GOMAXPROCS at start-up; SetWorkers changes it (tests force 1 to check
// that results do not depend on the split).
var workers = runtime.GOMAXPROCS(0)

// Workers reports how many goroutines For may use.
func Workers() int { return workers }

// SetWorkers sets the number of goroutines For may use and returns the old
// value. n < 1 means GOMAXPROCS.
func SetWorkers(n int) int {
	old := workers
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	workers = n
	return old
}

// For calls fn(lo, hi) over disjoint ranges that cover [0, n), each at least
// grain long (except possibly the last), using up to Workers() goroutines.
// It returns when every call has returned. With one worker, or when n is
// smaller than two grains, fn(0, n) runs on the calling goroutine.
func For(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	w := workers
	if maxW := (n + grain - 1) / grain; w > maxW {
		w = maxW
	}
	if w <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + w - 1) / w
	var wg sync.WaitGroup
	for lo := chunk; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, hi)
	}
	fn(0, min(chunk, n))
	wg.Wait()
}
