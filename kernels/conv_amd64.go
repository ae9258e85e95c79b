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

// The batch-norm block kernels: bnStatsBlock, bnApplyBlock, bnDyBlock and
// bnDxBlock (bn.go) over the channels whose bits are set in mask (at most
// 64, four zmm), for rows rows ld floats apart.

//go:noescape
func bnStatsAVX512(x, shift, s1, s2 *float32, rows, ld int, mask uint64)

//go:noescape
func bnApplyAVX512(x, y, scale, shift *float32, rows, ld int, mask uint64, relu int)

//go:noescape
func bnDyAVX512(x, dy, y, mean, s1, s2 *float32, rows, ld int, mask uint64)

//go:noescape
func bnDxAVX512(x, dy, y, dx, a, b, d *float32, rows, ld int, mask uint64)

// gatherAVX512 copies n strided 16-float columns into rows:
//
//	dst[v*dstStep+l] = src[v*srcStep+l*stride]   v < n, l < 16
//
//go:noescape
func gatherAVX512(dst, src *float32, n, dstStep, srcStep, stride int)
