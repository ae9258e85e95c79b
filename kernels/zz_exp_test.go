package kernels

import (
	"fmt"
	"testing"
)

func BenchmarkZZGemmOrient(b *testing.B) {
	for _, d := range [][3]int{{4096, 64, 576}, {4096, 128, 1152}, {1024, 512, 4608}, {576, 64, 4096}, {64, 576, 4096}} {
		m, n, k := d[0], d[1], d[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				b.Run(fmt.Sprintf("%dx%dx%d_tA%v_tB%v", m, n, k, ta, tb), func(b *testing.B) {
					a := make([]float32, m*k)
					bb := make([]float32, k*n)
					c := make([]float32, m*n)
					lda, ldb := k, n
					if ta {
						lda = m
					}
					if tb {
						ldb = k
					}
					for b.Loop() {
						Sgemm(ta, tb, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
					}
					b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
