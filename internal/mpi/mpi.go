package mpi

import (
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ThreadLevel is MPI's thread support level (MPI_THREAD_*).
type ThreadLevel int

// The thread levels, in increasing order of support.
const (
	Single     ThreadLevel = iota // one thread in the process
	Funneled                      // only the thread that initialised MPI calls it
	Serialized                    // any thread, one at a time
	Multiple                      // any thread, concurrently
)

func (l ThreadLevel) String() string {
	switch l {
	case Single:
		return "single"
	case Funneled:
		return "funneled"
	case Serialized:
		return "serialized"
	case Multiple:
		return "multiple"
	}
	return "ThreadLevel(" + strconv.Itoa(int(l)) + ")"
}

// Op is a reduction operation.
type Op int

// The reductions.
const (
	Sum Op = iota
	Max
	Min
)

// Number is an element type the collectives carry.
type Number interface {
	float32 | float64 | int64
}

// ErrFinalized is returned by calls after Finalize.
var ErrFinalized = errors.New("mpi: finalized")

// checkGather checks the buffers of an all-gather or reduce-scatter:
// big must hold size blocks of len(small).
func checkGather(op string, small, big, size int) error {
	if big != small*size {
		return fmt.Errorf("mpi: %s: buffers of %d and %d elements for %d processes (want %d = %d×%d)", op, small, big, size, small*size, small, size)
	}
	return nil
}

// checkRoot checks a broadcast root.
func checkRoot(root, size int) error {
	if root < 0 || root >= size {
		return fmt.Errorf("mpi: broadcast root %d outside the %d processes", root, size)
	}
	return nil
}

// launcherSize returns the number of processes a launcher (mpirun,
// srun) says the job has, 0 when the process was not started by one.
func launcherSize() int {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"} {
		if n, err := strconv.Atoi(os.Getenv(k)); err == nil {
			return n
		}
	}
	return 0
}
