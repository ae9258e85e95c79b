//go:build mpi && cgo

package mpi

/*
#cgo pkg-config: ./install-libopenmpi-dev.pc
#include <mpi.h>
#include <stdint.h>

static MPI_Datatype cm_type(int t) {
	switch (t) {
	case 0: return MPI_FLOAT;
	case 1: return MPI_DOUBLE;
	default: return MPI_INT64_T;
	}
}
static MPI_Op cm_op(int o) {
	switch (o) {
	case 1: return MPI_MAX;
	case 2: return MPI_MIN;
	default: return MPI_SUM;
	}
}
static int cm_level(int l) {
	switch (l) {
	case 0: return MPI_THREAD_SINGLE;
	case 1: return MPI_THREAD_FUNNELED;
	case 2: return MPI_THREAD_SERIALIZED;
	default: return MPI_THREAD_MULTIPLE;
	}
}
static int cm_unlevel(int l) {
	if (l == MPI_THREAD_SINGLE) return 0;
	if (l == MPI_THREAD_FUNNELED) return 1;
	if (l == MPI_THREAD_SERIALIZED) return 2;
	return 3;
}
static int cm_init(int want, int *got, int *rank, int *size) {
	int provided = 0, rc;
	rc = MPI_Init_thread(NULL, NULL, cm_level(want), &provided);
	if (rc != MPI_SUCCESS) return rc;
	*got = cm_unlevel(provided);
	rc = MPI_Comm_rank(MPI_COMM_WORLD, rank);
	if (rc != MPI_SUCCESS) return rc;
	return MPI_Comm_size(MPI_COMM_WORLD, size);
}
static int cm_allreduce(void *buf, int n, int t, int o) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, cm_type(t), cm_op(o), MPI_COMM_WORLD);
}
static int cm_allgather(void *send, void *recv, int n, int t) {
	return MPI_Allgather(send, n, cm_type(t), recv, n, cm_type(t), MPI_COMM_WORLD);
}
static int cm_reduce_scatter(void *send, void *recv, int n, int t, int o) {
	return MPI_Reduce_scatter_block(send, recv, n, cm_type(t), cm_op(o), MPI_COMM_WORLD);
}
static int cm_bcast(void *buf, int n, int t, int root) {
	return MPI_Bcast(buf, n, cm_type(t), root, MPI_COMM_WORLD);
}
static int cm_iallreduce(void *buf, int n, int t, int o, MPI_Request *req) {
	return MPI_Iallreduce(MPI_IN_PLACE, buf, n, cm_type(t), cm_op(o), MPI_COMM_WORLD, req);
}
static int cm_test(MPI_Request *req, int *flag) { return MPI_Test(req, flag, MPI_STATUS_IGNORE); }
static int cm_wait(MPI_Request *req) { return MPI_Wait(req, MPI_STATUS_IGNORE); }
static int cm_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int cm_finalize(void) { return MPI_Finalize(); }
static void cm_error_string(int code, char *buf, int *len) { MPI_Error_string(code, buf, len); }
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Enabled reports whether this build has the MPI binding (the mpi tag).
const Enabled = true

// Comm is MPI_COMM_WORLD, served by one goroutine locked to the OS thread
// that initialised MPI.
type Comm struct {
	rank, size int
	level      ThreadLevel
	jobs       chan func()
	mu         sync.Mutex // guards finalized
	finalized  bool
	pending    []*Request // outstanding non-blocking requests (MPI goroutine only)
}

var (
	world    *Comm
	worldErr error
	once     sync.Once
)

// pollEvery is how often the MPI goroutine tests outstanding requests
// when it has no call to make: MPI progresses a non-blocking collective
// only inside MPI calls.
const pollEvery = 100 * time.Microsecond

// Init initialises MPI with thread level level (MPI_Init_thread) on a
// goroutine locked to its OS thread, which then makes every MPI call of
// the process. Later calls return the same Comm (MPI is initialised once
// per process).
func Init(level ThreadLevel) (*Comm, error) {
	once.Do(func() {
		c := &Comm{jobs: make(chan func())}
		ready := make(chan error)
		go c.serve(level, ready)
		if worldErr = <-ready; worldErr == nil {
			world = c
		}
	})
	return world, worldErr
}

// Shutdown finalizes MPI if Init initialised it and nothing finalized it
// yet: call it once, before the process exits.
func Shutdown() error {
	if world == nil {
		return nil
	}
	world.mu.Lock()
	fin := world.finalized
	world.mu.Unlock()
	if fin {
		return nil
	}
	return world.Finalize()
}

// serve is the MPI goroutine.
func (c *Comm) serve(level ThreadLevel, ready chan<- error) {
	runtime.LockOSThread() // never unlocked: the thread belongs to MPI
	var got, rank, size C.int
	if rc := C.cm_init(C.int(level), &got, &rank, &size); rc != C.MPI_SUCCESS {
		ready <- fmt.Errorf("mpi: MPI_Init_thread: %s", errorString(rc))
		return
	}
	c.level, c.rank, c.size = ThreadLevel(got), int(rank), int(size)
	ready <- nil
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		if len(c.pending) == 0 {
			job, ok := <-c.jobs
			if !ok {
				return
			}
			job()
			continue
		}
		timer.Reset(pollEvery)
		select {
		case job, ok := <-c.jobs:
			timer.Stop()
			if !ok {
				return
			}
			job()
		case <-timer.C:
		}
		c.progress()
	}
}

// progress tests the outstanding requests and completes the finished ones.
func (c *Comm) progress() {
	kept := c.pending[:0]
	for _, r := range c.pending {
		var flag C.int
		rc := C.cm_test(&r.req, &flag)
		switch {
		case rc != C.MPI_SUCCESS:
			r.finish(fmt.Errorf("mpi: MPI_Test: %s", errorString(rc)))
		case flag != 0:
			r.finish(nil)
		default:
			kept = append(kept, r)
		}
	}
	clear(c.pending[len(kept):])
	c.pending = kept
}

// call runs f on the MPI goroutine and returns its error.
func (c *Comm) call(name string, f func() C.int) error {
	c.mu.Lock()
	fin := c.finalized
	c.mu.Unlock()
	if fin {
		return ErrFinalized
	}
	done := make(chan C.int, 1)
	c.jobs <- func() { done <- f() }
	if rc := <-done; rc != C.MPI_SUCCESS {
		return fmt.Errorf("mpi: %s: %s", name, errorString(rc))
	}
	return nil
}

func errorString(rc C.int) string {
	buf := make([]C.char, C.MPI_MAX_ERROR_STRING)
	var n C.int
	C.cm_error_string(rc, &buf[0], &n)
	return C.GoStringN(&buf[0], n)
}

// Rank is this process's rank in MPI_COMM_WORLD.
func (c *Comm) Rank() int { return c.rank }

// Size is the number of processes in MPI_COMM_WORLD.
func (c *Comm) Size() int { return c.size }

// ThreadLevel is the thread level MPI provides (it may exceed the one
// asked for).
func (c *Comm) ThreadLevel() ThreadLevel { return c.level }

// Barrier blocks until every process has called it.
func (c *Comm) Barrier() error { return c.call("MPI_Barrier", func() C.int { return C.cm_barrier() }) }

// Finalize shuts MPI down (MPI_Finalize); later calls fail with
// ErrFinalized.
func (c *Comm) Finalize() error {
	err := c.call("MPI_Finalize", func() C.int { return C.cm_finalize() })
	c.mu.Lock()
	c.finalized = true
	c.mu.Unlock()
	return err
}

func dtype[T Number]() C.int {
	var z T
	switch any(z).(type) {
	case float32:
		return 0
	case float64:
		return 1
	}
	return 2
}

func count(op string, n int) (C.int, error) {
	if n > math.MaxInt32 {
		return 0, fmt.Errorf("mpi: %s of %d elements: more than MPI's int count", op, n)
	}
	return C.int(n), nil
}

func ptr[T Number](s []T) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(&s[0])
}

// Allreduce reduces buf over the processes in place (MPI_Allreduce with
// MPI_IN_PLACE): afterwards every process holds the reduction.
func Allreduce[T Number](c *Comm, buf []T, op Op) error {
	n, err := count("Allreduce", len(buf))
	if err != nil || n == 0 {
		return err
	}
	return c.call("MPI_Allreduce", func() C.int { return C.cm_allreduce(ptr(buf), n, dtype[T](), C.int(op)) })
}

// Allgather writes every process's send, in rank order, into recv
// (len(recv) = Size·len(send)).
func Allgather[T Number](c *Comm, send, recv []T) error {
	if err := checkGather("Allgather", len(send), len(recv), c.size); err != nil {
		return err
	}
	n, err := count("Allgather", len(send))
	if err != nil || n == 0 {
		return err
	}
	return c.call("MPI_Allgather", func() C.int { return C.cm_allgather(ptr(send), ptr(recv), n, dtype[T]()) })
}

// ReduceScatter reduces send (Size blocks of len(recv)) over the
// processes and writes block Rank of the result into recv
// (MPI_Reduce_scatter_block).
func ReduceScatter[T Number](c *Comm, send, recv []T, op Op) error {
	if err := checkGather("ReduceScatter", len(recv), len(send), c.size); err != nil {
		return err
	}
	n, err := count("ReduceScatter", len(recv))
	if err != nil || n == 0 {
		return err
	}
	return c.call("MPI_Reduce_scatter_block", func() C.int {
		return C.cm_reduce_scatter(ptr(send), ptr(recv), n, dtype[T](), C.int(op))
	})
}

// Bcast copies root's buf into every process's buf.
func Bcast[T Number](c *Comm, buf []T, root int) error {
	if err := checkRoot(root, c.size); err != nil {
		return err
	}
	n, err := count("Bcast", len(buf))
	if err != nil || n == 0 {
		return err
	}
	return c.call("MPI_Bcast", func() C.int { return C.cm_bcast(ptr(buf), n, dtype[T](), C.int(root)) })
}

// Request is a non-blocking collective in flight.
type Request struct {
	req  C.MPI_Request
	pin  runtime.Pinner // keeps the buffer where MPI was told it is
	done chan struct{}
	err  error
}

func (r *Request) finish(err error) {
	r.err = err
	r.pin.Unpin()
	close(r.done)
}

// Iallreduce starts an all-reduce of buf in place (MPI_Iallreduce) and
// returns at once; buf must not be read or written until Wait returns.
// The MPI goroutine progresses the request while the caller computes.
func Iallreduce[T Number](c *Comm, buf []T, op Op) (*Request, error) {
	r := &Request{done: make(chan struct{})}
	n, err := count("Iallreduce", len(buf))
	if err != nil {
		return nil, err
	}
	if n == 0 {
		close(r.done)
		return r, nil
	}
	p := ptr(buf)
	r.pin.Pin(p)
	err = c.call("MPI_Iallreduce", func() C.int {
		rc := C.cm_iallreduce(p, n, dtype[T](), C.int(op), &r.req)
		if rc == C.MPI_SUCCESS {
			c.pending = append(c.pending, r)
		}
		return rc
	})
	if err != nil {
		r.pin.Unpin()
		return nil, err
	}
	return r, nil
}

// Wait blocks until the request has completed.
func (r *Request) Wait() error {
	<-r.done
	return r.err
}
