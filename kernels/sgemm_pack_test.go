package kernels

import (
	"fmt"
	"testing"
)

// BenchmarkPack times packing one kc×nc B panel and one mc×kc A block of a
// 2048×2048 operand (the sizes Sgemm packs for 2048³), in ns per element.
func BenchmarkPack(b *testing.B) {
	const n, kc, mc, nc = 2048, 342, 168, 2048
	src := make([]float32, n*n)
	dst := make([]float32, kc*nc)
	for _, mr := range []int{14, 6} {
		for _, tr := range []bool{false, true} {
			b.Run(fmt.Sprintf("A/mr=%d/trans=%v", mr, tr), func(b *testing.B) {
				for b.Loop() {
					packA(dst, tr, src, n, 0, mc, 0, kc, 1, mr)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mc*kc), "ns/elem")
			})
		}
	}
	for _, nr := range []int{32, 16} {
		for _, tr := range []bool{false, true} {
			b.Run(fmt.Sprintf("B/nr=%d/trans=%v", nr, tr), func(b *testing.B) {
				for b.Loop() {
					packB(dst, tr, src, n, 0, kc, 0, nc, 0, nc/nr, nr)
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
