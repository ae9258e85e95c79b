//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// sgemmKernelAVX512 computes one 14×32 tile of C from packed panels:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 14; i++ {
//			for j := 0; j < 32; j++ {
//				acc[i][j] += a[p*14+i] * b[p*32+j]
//			}
//		}
//	}
//	C[i*ldc+j] = acc[i][j]      (accumulate == 0; C is not read)
//	C[i*ldc+j] += acc[i][j]     (accumulate != 0)
//
// a holds 14·kc floats, b 32·kc, and C 14 rows of 32 with row stride ldc.
// kc ≥ 1. The 28 accumulators are zmm registers; A is broadcast, B is
// loaded as two zmm per k step.
//
//go:noescape
func sgemmKernelAVX512(kc int, a, b, c *float32, ldc int, accumulate int)

// sgemmKernelAVX512StrideA is sgemmKernelAVX512 with A read in place from
// a transposed (k×m) operand instead of a packed panel: step p's 14 values
// are a[p*lda : p*lda+14].
//
//go:noescape
func sgemmKernelAVX512StrideA(kc int, a, b, c *float32, ldc int, accumulate int, lda int)

// sgemmKernelAVX2 computes one 6×16 tile of C from packed panels:
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < 6; i++ {
//			for j := 0; j < 16; j++ {
//				acc[i][j] += a[p*6+i] * b[p*16+j]
//			}
//		}
//	}
//	C[i*ldc+j] = acc[i][j]      (accumulate == 0; C is not read)
//	C[i*ldc+j] += acc[i][j]     (accumulate != 0)
//
// a holds 6·kc floats, b 16·kc, and C 6 rows of 16 with row stride ldc.
// kc ≥ 1. The 12 accumulators are ymm registers.
//
//go:noescape
func sgemmKernelAVX2(kc int, a, b, c *float32, ldc int, accumulate int)

// transpose16AVX512 transposes blocks of 16 columns of a rows×(16·blocks)
// block of src (row stride ld) into d (row stride dstride), scaled:
//
//	for p := 0; p < 16*blocks; p++ {
//		for r := 0; r < rows; r++ {
//			d[p*dstride+r] = alpha * src[r*ld+p]
//		}
//	}
//
// 1 ≤ rows ≤ 16; d[p*dstride+r] for r ≥ rows is left alone. Each block is
// 16 row loads, a 16×16 in-register transpose and 16 masked stores.
//
//go:noescape
func transpose16AVX512(d, src *float32, ld, rows, blocks, dstride int, alpha float32)

// packTransposedAVX512 is packTransposed with the whole 16-column blocks
// done by transpose16AVX512.
func packTransposedAVX512(d, src []float32, ld, rows, kcur, width int, alpha float32) {
	blocks := kcur / 16
	if blocks > 0 {
		for r0 := 0; r0 < rows; r0 += 16 {
			transpose16AVX512(&d[r0], &src[r0*ld], ld, min(16, rows-r0), blocks, width, alpha)
		}
		if rows < width {
			for p := range blocks * 16 {
				clear(d[p*width+rows : p*width+width])
			}
		}
	}
	if done := blocks * 16; done < kcur {
		packTransposed(d[done*width:], src[done:], ld, rows, kcur-done, width, alpha)
	}
}

// copyPanelsAVX512 copies panels of width ≤ 32 columns, row by row:
//
//	for p := 0; p < kcur; p++ {
//		for q := 0; q < panels; q++ {
//			for c := 0; c < width; c++ {
//				d[q*width*kcur+p*width+c] = alpha * src[p*ld+q*width+c]
//			}
//		}
//	}
//
// except that in the last panel only the columns in the lane masks lastLo
// (columns 0-15) and lastHi (16-31) are read; the others are stored as 0.
// Columns outside the masks are never read (masked loads do not fault).
//
//go:noescape
func copyPanelsAVX512(d, src *float32, ld, kcur, panels, width int, alpha float32, lastLo, lastHi int)

// copyPanelsAVX512Go is copyPanels on copyPanelsAVX512.
func copyPanelsAVX512Go(dst, src []float32, ld, cols, kcur, width, q0, q1 int, alpha float32) {
	if q1 <= q0 || kcur == 0 {
		return
	}
	last := min(width, cols-(q1-1)*width) // columns of the last panel
	lo, hi := min(last, 16), max(last-16, 0)
	_ = dst[q1*width*kcur-1] // bounds: the last element written
	_ = src[(kcur-1)*ld+(q1-1)*width+last-1]
	copyPanelsAVX512(&dst[q0*width*kcur], &src[q0*width], ld, kcur, q1-q0, width, alpha, 1<<lo-1, 1<<hi-1)
}

var avx512Kernel = &gemmKernel{
	name: "avx512", mr: 14, nr: 32, kc: 1024, mc: 84, nc: 2048,
	micro: func(kc int, a, b, c []float32, ldc int, accumulate bool) {
		sgemmKernelAVX512(kc, &a[0], &b[0], &c[0], ldc, b2i(accumulate))
	},
	microStrideA: func(kc int, a []float32, lda int, b, c []float32, ldc int, accumulate bool) {
		_ = a[(kc-1)*lda+13] // the last element read
		sgemmKernelAVX512StrideA(kc, &a[0], &b[0], &c[0], ldc, b2i(accumulate), lda)
	},
	transpose:  packTransposedAVX512,
	copyPanels: copyPanelsAVX512Go,
}

var avx2Kernel = &gemmKernel{
	name: "avx2", mr: 6, nr: 16, kc: 512, mc: 96, nc: 2048,
	micro: func(kc int, a, b, c []float32, ldc int, accumulate bool) {
		sgemmKernelAVX2(kc, &a[0], &b[0], &c[0], ldc, b2i(accumulate))
	},
	transpose:  packTransposed,
	copyPanels: copyPanels,
}

// asmKernels lists the assembly micro-kernels this CPU (and OS) supports,
// fastest first.
func asmKernels() []*gemmKernel {
	var ks []*gemmKernel
	if cpu.X86.HasAVX512F && cpu.X86.HasBMI2 {
		ks = append(ks, avx512Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	return ks
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
