//go:build !mpi

package mpi

import "fmt"

// Comm is the process group. In this build (without the mpi tag) it is
// one process: Rank 0 of Size 1.
type Comm struct {
	level     ThreadLevel
	finalized bool
}

// Enabled reports whether this build has the MPI binding (the mpi tag).
const Enabled = false

// Init returns the one-process group. It fails when a launcher started
// the process as one of several (mpirun -n 2 with a binary built without
// -tags mpi), which would train N unconnected copies.
func Init(level ThreadLevel) (*Comm, error) {
	if n := launcherSize(); n > 1 {
		return nil, fmt.Errorf("mpi: started as one of %d processes, but this binary was built without MPI: rebuild with `go build -tags mpi` (needs cgo and Open MPI: apt-get install libopenmpi-dev openmpi-bin)", n)
	}
	return &Comm{level: level}, nil
}

// Shutdown is MPI_Finalize in the MPI build: nothing to do here.
func Shutdown() error { return nil }

// Rank is this process's rank, 0.
func (c *Comm) Rank() int { return 0 }

// Size is the number of processes, 1.
func (c *Comm) Size() int { return 1 }

// ThreadLevel is the thread level in effect (the one asked for).
func (c *Comm) ThreadLevel() ThreadLevel { return c.level }

// Barrier returns at once.
func (c *Comm) Barrier() error { return c.check() }

// Finalize ends the group; later calls fail with ErrFinalized.
func (c *Comm) Finalize() error {
	if err := c.check(); err != nil {
		return err
	}
	c.finalized = true
	return nil
}

func (c *Comm) check() error {
	if c.finalized {
		return ErrFinalized
	}
	return nil
}

// Allreduce reduces buf over the processes in place: the identity here.
func Allreduce[T Number](c *Comm, buf []T, op Op) error { return c.check() }

// Allgather writes every process's send, in rank order, into recv
// (len(recv) = Size·len(send)): a copy here.
func Allgather[T Number](c *Comm, send, recv []T) error {
	if err := c.check(); err != nil {
		return err
	}
	if err := checkGather("Allgather", len(send), len(recv), 1); err != nil {
		return err
	}
	copy(recv, send)
	return nil
}

// ReduceScatter reduces send (Size blocks of len(recv)) over the
// processes and writes block Rank of the result into recv: a copy here.
func ReduceScatter[T Number](c *Comm, send, recv []T, op Op) error {
	if err := c.check(); err != nil {
		return err
	}
	if err := checkGather("ReduceScatter", len(recv), len(send), 1); err != nil {
		return err
	}
	copy(recv, send)
	return nil
}

// Bcast copies root's buf into every process's buf: nothing to do here.
func Bcast[T Number](c *Comm, buf []T, root int) error {
	if err := c.check(); err != nil {
		return err
	}
	return checkRoot(root, 1)
}

// Request is a non-blocking collective in flight.
type Request struct{ err error }

// Iallreduce starts an all-reduce of buf in place and returns at once;
// buf must not be touched until Wait returns. Here it is complete at once.
func Iallreduce[T Number](c *Comm, buf []T, op Op) (*Request, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return &Request{}, nil
}

// Wait blocks until the request has completed.
func (r *Request) Wait() error { return r.err }
