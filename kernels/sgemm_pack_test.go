package kernels

import (
	"fmt"
	"math"
	"testing"
)

// TestPackTransposed checks every kernel's transpose against the Go
// packTransposed over awkward row counts, depths and widths, with NaN in
// the destination (every element must be written) and NaN guards after
// the source rows (none may be read).
func TestPackTransposed(t *testing.T) {
	for _, kern := range append(asmKernels(), genericKernel) {
		for _, width := range []int{4, 6, 14, 16, 32} {
			for _, rows := range []int{1, 5, 13, 14, 15, 16, 17, 31, 32} {
				if rows > width {
					continue
				}
				for _, kcur := range []int{1, 15, 16, 17, 47, 64} {
					const ld = 70
					src := make([]float32, rows*ld)
					for i := range src {
						if i%ld < kcur {
							src[i] = float32(i%977) - 400
						} else {
							src[i] = float32(math.NaN())
						}
					}
					want := make([]float32, kcur*width)
					got := make([]float32, kcur*width+3)
					for i := range got {
						got[i] = float32(math.NaN())
					}
					packTransposed(want, src, ld, rows, kcur, width, -0.5)
					kern.transpose(got, src, ld, rows, kcur, width, -0.5)
					if i := bitDiff(want, got[:len(want)]); i >= 0 {
						t.Fatalf("%s: width=%d rows=%d kcur=%d: d[%d] (p=%d, r=%d) = %g, want %g",
							kern.name, width, rows, kcur, i, i/width, i%width, got[i], want[i])
					}
					if !math.IsNaN(float64(got[len(want)])) {
						t.Fatalf("%s: width=%d rows=%d kcur=%d: wrote past the panel", kern.name, width, rows, kcur)
					}
				}
			}
		}
	}
}

// TestCopyPanels checks every kernel's copyPanels against the Go one over
// awkward column counts, panel ranges and depths, with NaN in the
// destination (every element of the panels must be written, nothing
// around them) and NaN in the source past cols (none may be read).
func TestCopyPanels(t *testing.T) {
	for _, kern := range append(asmKernels(), genericKernel) {
		for _, width := range []int{4, 6, 14, 16, 32} {
			for _, cols := range []int{1, 5, 14, 15, 16, 17, 31, 32, 33, 60, 64, 100} {
				panels := ceilDiv(cols, width)
				for _, q := range [][2]int{{0, panels}, {panels - 1, panels}, {0, (panels + 1) / 2}} {
					for _, kcur := range []int{1, 3, 16} {
						for _, alpha := range []float32{1, -0.5} {
							const ld = 110
							src := make([]float32, (kcur-1)*ld+cols)
							for i := range src {
								if i%ld < cols {
									src[i] = float32(i%977) - 400
								} else {
									src[i] = float32(math.NaN())
								}
							}
							want := make([]float32, panels*width*kcur+3)
							got := make([]float32, len(want))
							for i := range got {
								want[i] = float32(math.NaN())
								got[i] = want[i]
							}
							copyPanels(want, src, ld, cols, kcur, width, q[0], q[1], alpha)
							kern.copyPanels(got, src, ld, cols, kcur, width, q[0], q[1], alpha)
							if i := bitDiff(want, got); i >= 0 {
								t.Fatalf("%s: width=%d cols=%d panels [%d,%d) kcur=%d alpha=%g: d[%d] = %g, want %g",
									kern.name, width, cols, q[0], q[1], kcur, alpha, i, got[i], want[i])
							}
							for i := q[0] * width * kcur; i < q[1]*width*kcur; i++ {
								if math.IsNaN(float64(got[i])) {
									t.Fatalf("%s: width=%d cols=%d panels [%d,%d) kcur=%d: d[%d] not written",
										kern.name, width, cols, q[0], q[1], kcur, i)
								}
							}
						}
					}
				}
			}
		}
	}
}

// BenchmarkPack times packing one kc×nc B panel and one mc×kc A block of a
// 2048×2048 operand (the sizes Sgemm packs for 2048³), in ns per element.
func BenchmarkPack(b *testing.B) {
	const n, kc, mc, nc = 2048, 1024, 84, 2048
	src := make([]float32, n*n)
	dst := make([]float32, kc*nc)
	for _, kern := range append(asmKernels(), genericKernel) {
		for _, tr := range []bool{false, true} {
			b.Run(fmt.Sprintf("A/%s/trans=%v", kern.name, tr), func(b *testing.B) {
				for b.Loop() {
					packA(dst, tr, src, n, 0, mc, 0, kc, 1, kern)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mc*kc), "ns/elem")
			})
		}
	}
	for _, kern := range append(asmKernels(), genericKernel) {
		nr := kern.nr
		for _, tr := range []bool{false, true} {
			b.Run(fmt.Sprintf("B/%s/trans=%v", kern.name, tr), func(b *testing.B) {
				for b.Loop() {
					packB(dst, tr, src, n, 0, kc, 0, nc, 0, nc/nr, 1, kern)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nc*kc), "ns/elem")
			})
		}
	}
}

// BenchmarkMicro times one micro-kernel call on hot packed panels (the
// kernel's ceiling: no packing, no cache misses).
func BenchmarkMicro(b *testing.B) {
	for _, kern := range append(asmKernels(), genericKernel) {
		for _, kc := range []int{128, 256, 342, 512} {
			b.Run(fmt.Sprintf("%s/kc=%d", kern.name, kc), func(b *testing.B) {
				ap := make([]float32, kern.mr*kc)
				bp := make([]float32, kern.nr*kc)
				c := make([]float32, kern.mr*kern.nr)
				for b.Loop() {
					kern.micro(kc, ap, bp, c, kern.nr, true)
				}
				b.ReportMetric(2*float64(kern.mr*kern.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
