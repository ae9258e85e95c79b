package kernels

// vecAcc adds src into dst element-wise: dst[i] += src[i] for i < len(dst).
// src must be at least as long as dst.
func vecAcc(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}
