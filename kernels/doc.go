// Package kernels holds the engine's compute kernels over raw float32
// slices: SGEMM (packing, cache blocking and register-blocked micro-kernels
// in Go assembly for AVX-512 and AVX2+FMA, with a pure-Go fallback),
// im2col/col2im, and the element-wise and reduction loops the autograd ops
// are built from.
//
// The implementation is chosen once at start-up from the CPU features
// reported by golang.org/x/sys/cpu (which also checks that the operating
// system saves the wide registers); Impl names the choice. Building with
// -tags noasm selects the pure-Go code everywhere.
//
// # Errors
//
// Exported entry points check their arguments (lengths, leading
// dimensions) and panic with a message naming the kernel and the sizes: a
// bad argument is a programming error. Unexported kernels trust their
// callers.
package kernels
