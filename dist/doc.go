// Package dist runs data-parallel training over a process group: the
// collectives of internal/mpi shaped for the engine (an all-gather whose
// gradient is a reduce-scatter, synchronised batch norm, bucketed
// gradient averaging that overlaps the backward pass) and the
// methods.Comm the methods ask for their own collectives.
//
// In the default build the group is one process and every operation is
// the identity (or a copy); built with -tags mpi (cgo, Open MPI) and
// started by mpirun, it spans the job's processes.
//
// # Errors
//
// A collective that fails (MPI has already aborted the job on a
// communication failure by default) panics with MPI's message: it is
// not an error a caller can handle, and every other process would wait
// forever for this one.
package dist
