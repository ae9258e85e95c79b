package kernels

// genericKernel is the pure-Go micro-kernel on the same packing as the
// assembly ones: the fallback for CPUs without AVX2 and for -tags noasm.
var genericKernel = &gemmKernel{
	name: "generic", mr: 4, nr: 4, kc: 256, mc: 128, nc: 2048,
	micro:      sgemmKernelGeneric,
	transpose:  packTransposed,
	copyPanels: copyPanels,
}

// sgemmKernelGeneric computes one 4×4 tile of C from packed panels:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 4; i++ {
//			for j := 0; j < 4; j++ {
//				acc[i][j] += a[p*4+i] * b[p*4+j]
//			}
//		}
//	}
//	C[i*ldc+j] = acc[i][j]      (!accumulate; C is not read)
//	C[i*ldc+j] += acc[i][j]     (accumulate)
func sgemmKernelGeneric(kc int, a, b, c []float32, ldc int, accumulate bool) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	a = a[:4*kc]
	b = b[:4*kc]
	for p := 0; p < kc; p++ {
		ap := a[4*p : 4*p+4 : 4*p+4]
		bp := b[4*p : 4*p+4 : 4*p+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	rows := [4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	}
	for i := range rows {
		row := c[i*ldc : i*ldc+4 : i*ldc+4]
		if accumulate {
			for j, v := range rows[i] {
				row[j] += v
			}
		} else {
			copy(row, rows[i][:])
		}
	}
}
