//go:build !amd64 || noasm

package kernels

// useConvAVX512 is false without amd64 or with -tags noasm: convolutions
// run through im2col and Sgemm.
var useConvAVX512 = false

func convTileAVX512(a, b, c *float32, args *convTileArgs) {
	panic("kernels: convTileAVX512 called without assembly support")
}

func vecAccAVX512(dst, src *float32, n int) {
	panic("kernels: vecAccAVX512 called without assembly support")
}
