package kernels

// Batch-norm reductions that return their float64 totals, for batch norm
// synchronised over processes: each process's totals are summed before
// anything is rounded to float32, as one process's are.

// BatchNormMoments computes the per-channel mean and sum of squared
// deviations M2 of x [M, C] in float64, from the same shifted one-pass
// sums as BatchNormStats (whose variance is M2/M):
//
//	mean[c] = Σ_m x[m][c] / M
//	m2[c]   = Σ_m (x[m][c] − mean[c])²
func BatchNormMoments(x []float32, m, c int, mean, m2 []float64) {
	const op = "BatchNormMoments"
	needLen(op, "x", len(x), m*c)
	needLen(op, "mean", len(mean), c)
	needLen(op, "m2", len(m2), c)
	if m == 0 {
		return
	}
	shift := x[:c]
	bnReduce(m, c, func(r0, r1 int, s1, s2 []float32) {
		for c0 := 0; c0 < c; c0 += bnChans {
			c1 := min(c0+bnChans, c)
			bnStatsBlock(x[r0*c+c0:], r1-r0, c, shift[c0:c1], s1[c0:c1], s2[c0:c1])
		}
	}, func(i int, t1, t2 float64) {
		d := t1 / float64(m)
		mean[i] = float64(shift[i]) + d
		m2[i] = max(t2-t1*d, 0)
	})
}

// BatchNormBackwardSums is BatchNormBackwardReduce with float64 totals
// and without the final factor invstd:
//
//	sumDy[c]   = Σ_m g[m][c]
//	sumDyXmu[c] = Σ_m g[m][c]·(x[m][c] − mean[c])
//
// (g = dy, masked by y > 0 when y is not nil).
func BatchNormBackwardSums(x, dy, y []float32, m, c int, mean []float32, sumDy, sumDyXmu []float64) {
	const op = "BatchNormBackwardSums"
	needLen(op, "x", len(x), m*c)
	needLen(op, "dy", len(dy), m*c)
	if y != nil {
		needLen(op, "y", len(y), m*c)
	}
	bnReduce(m, c, func(r0, r1 int, s1, s2 []float32) {
		for c0 := 0; c0 < c; c0 += bnChans {
			c1 := min(c0+bnChans, c)
			var yb []float32
			if y != nil {
				yb = y[r0*c+c0:]
			}
			bnDyBlock(x[r0*c+c0:], dy[r0*c+c0:], yb, r1-r0, c, mean[c0:c1], s1[c0:c1], s2[c0:c1])
		}
	}, func(i int, t1, t2 float64) {
		sumDy[i] = t1
		sumDyXmu[i] = t2
	})
}
