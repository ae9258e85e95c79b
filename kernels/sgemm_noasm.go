//go:build !amd64 || noasm

package kernels

// asmKernels lists the assembly micro-kernels this CPU supports: none
// without amd64 or with -tags noasm.
func asmKernels() []*gemmKernel { return nil }
