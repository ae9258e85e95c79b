//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// useConvAVX512 selects the AVX-512 convolution tile and vector kernels
// (x/sys/cpu also checks that the OS saves the zmm and mask registers).
var useConvAVX512 = cpu.X86.HasAVX512F

// convTile<MR>AVX512 is convTileGo for a tile of MR rows in assembly: 2·MR
// zmm accumulators hold the MR×32 tile for the whole p loop; B rows are
// loaded as two masked zmm, A elements are broadcast from their rows in
// place.
//
//go:noescape
func convTile1AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile2AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile3AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile4AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile5AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile6AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile7AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile8AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile9AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile10AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile11AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile12AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile13AVX512(a, b, c *float32, args *convTileArgs)

//go:noescape
func convTile14AVX512(a, b, c *float32, args *convTileArgs)

// convTileAVX512 holds the tile kernels by row count.
var convTileAVX512 = [convMR + 1]func(a, b, c *float32, args *convTileArgs){
	nil, convTile1AVX512, convTile2AVX512, convTile3AVX512, convTile4AVX512, convTile5AVX512,
	convTile6AVX512, convTile7AVX512, convTile8AVX512, convTile9AVX512, convTile10AVX512,
	convTile11AVX512, convTile12AVX512, convTile13AVX512, convTile14AVX512,
}

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

// panelCopyAVX512 copies n 32-float rows of src into rows dstStride apart:
//
//	dst[v*dstStride+j] = src[v*32+j]   v < n, j < 32
//
//go:noescape
func panelCopyAVX512(dst, src *float32, n, dstStride int)
