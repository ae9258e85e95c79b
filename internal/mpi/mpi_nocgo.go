//go:build mpi && !cgo

package mpi

// The MPI binding is cgo: building with -tags mpi and CGO_ENABLED=0 stops
// here with the name below as the compiler's message.
var _ = the_mpi_build_tag_needs_cgo__set_CGO_ENABLED_1_and_install_Open_MPI__apt_get_install_libopenmpi_dev_openmpi_bin
