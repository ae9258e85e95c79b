//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// useConvAVX512 selects the AVX-512 convolution tile and vector kernels
// (x/sys/cpu also checks that the OS saves the zmm and mask registers).
var useConvAVX512 = cpu.X86.HasAVX512F

// convTileAVX512 is convTileGo in assembly: 28 zmm accumulators hold the
// 14×32 tile for the whole p loop; B rows are loaded as two masked zmm,
// A elements are broadcast from their rows in place.
//
//go:noescape
func convTileAVX512(a, b, c *float32, args *convTileArgs)

// vecAccAVX512 computes dst[i] += src[i] for i < n (n ≥ 0).
//
//go:noescape
func vecAccAVX512(dst, src *float32, n int)
