// Package mpi is a thin binding to the Message Passing Interface (Open MPI,
// through cgo) for data-parallel training: a process group of Size
// processes, each with a Rank, and the collectives the trainer and the
// methods need — all-reduce, all-gather, reduce-scatter and broadcast on
// float32, float64 and int64 buffers, and a non-blocking all-reduce.
//
// # Builds
//
// The MPI binding is compiled only with the build tag mpi
// (`go build -tags mpi`), which needs cgo and Open MPI's development files
// (Debian: `apt-get install libopenmpi-dev openmpi-bin`; they are found
// with `pkg-config ompi-c`). The default build has a one-process
// implementation of the same API — Rank 0 of Size 1, every collective the
// identity — and no cgo. A default-build binary started by mpirun (the
// environment says so) refuses to run as N copies of one process: Init
// fails with a message to rebuild with -tags mpi.
//
// # Threads
//
// MPI is initialised with a thread level (Funneled by default): every MPI
// call of the process is made from one goroutine locked to its OS thread,
// which Init starts. The exported functions may be called from any
// goroutine; they hand the call to that goroutine and wait for it (the
// non-blocking all-reduce returns at once with a Request). While
// non-blocking requests are outstanding the MPI goroutine polls them, so
// they progress while the caller computes.
//
// # Errors
//
// MPI's default error handler aborts the job on a communication failure;
// the errors returned here are misuse (mismatched buffer lengths, a call
// after Finalize) and error codes MPI does return.
package mpi
