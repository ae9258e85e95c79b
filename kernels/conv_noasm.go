//go:build !amd64 || noasm

package kernels

// useConvAVX512 is false without amd64 or with -tags noasm: convolutions
// run through im2col and Sgemm.
var useConvAVX512 = false

// convTileAVX512 is empty: convTile runs convTileGo.
var convTileAVX512 [convMR + 1]func(a, b, c *float32, args *convTileArgs)

func vecAccAVX512(dst, src *float32, n int) {
	panic("kernels: vecAccAVX512 called without assembly support")
}

func bnStatsAVX512(x, shift, s1, s2 *float32, rows, ld int, mask uint64) {
	panic("kernels: bnStatsAVX512 called without assembly support")
}

func bnApplyAVX512(x, y, scale, shift *float32, rows, ld int, mask uint64, relu int) {
	panic("kernels: bnApplyAVX512 called without assembly support")
}

func bnDyAVX512(x, dy, y, mean, s1, s2 *float32, rows, ld int, mask uint64) {
	panic("kernels: bnDyAVX512 called without assembly support")
}

func bnDxAVX512(x, dy, y, dx, a, b, d *float32, rows, ld int, mask uint64) {
	panic("kernels: bnDxAVX512 called without assembly support")
}

func gatherAVX512(dst, src *float32, n, dstStep, srcStep, stride int) {
	panic("kernels: gatherAVX512 called without assembly support")
}

func panelCopyAVX512(dst, src *float32, n, dstStride int) {
	panic("kernels: panelCopyAVX512 called without assembly support")
}
