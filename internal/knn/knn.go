// Package knn is the weighted k-nearest-neighbour classifier of InstDisc
// (Wu et al., arXiv:1805.01978) on L2-normalised features, shared by the
// evaluation package and the memory-bank methods (which classify straight
// from their bank).
package knn

import (
	"fmt"
	"math"
	"sort"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Config configures the weighted kNN classifier.
type Config struct {
	K           int     // neighbours (200 in InstDisc)
	Temperature float32 // weight exp(sim/T) (0.07 in InstDisc)
	NumClasses  int
	// ChunkRows bounds memory: test rows scored at once (default 256).
	ChunkRows int
}

// KNN classifies every test feature by a vote of its K nearest training
// features under cosine similarity, each neighbour weighted by
// exp(similarity / T) as in InstDisc, and returns top-1/top-5 accuracy.
//
//	train [N, D], test [M, D]; labels in [0, NumClasses)
//
// Features are L2-normalised here (copies; the inputs are not modified).
func Classify(train *tensor.Tensor, trainLabels []int, test *tensor.Tensor, testLabels []int, cfg Config) (top1, top5 float64, err error) {
	if train.Rank() != 2 || test.Rank() != 2 || train.Dim(1) != test.Dim(1) {
		return 0, 0, fmt.Errorf("knn: feature shapes %v and %v do not match", train.Shape(), test.Shape())
	}
	n, m, d := train.Dim(0), test.Dim(0), train.Dim(1)
	if len(trainLabels) != n || len(testLabels) != m {
		return 0, 0, fmt.Errorf("knn: %d train labels for %d features, %d test labels for %d features", len(trainLabels), n, len(testLabels), m)
	}
	if cfg.K <= 0 || cfg.Temperature <= 0 || cfg.NumClasses <= 0 {
		return 0, 0, fmt.Errorf("knn: need k > 0, temperature > 0 and classes > 0 (got k=%d T=%g classes=%d)", cfg.K, cfg.Temperature, cfg.NumClasses)
	}
	for _, l := range append(append([]int(nil), trainLabels...), testLabels...) {
		if l < 0 || l >= cfg.NumClasses {
			return 0, 0, fmt.Errorf("knn: label %d outside [0, %d)", l, cfg.NumClasses)
		}
	}
	if m == 0 {
		return 0, 0, nil
	}
	k := min(cfg.K, n)
	chunk := cfg.ChunkRows
	if chunk <= 0 {
		chunk = 256
	}
	tr := normalizedRows(train)
	te := normalizedRows(test)
	sims := make([]float32, chunk*n)
	var hit1, hit5 int
	for lo := 0; lo < m; lo += chunk {
		hi := min(lo+chunk, m)
		rows := hi - lo
		kernels.Sgemm(false, true, rows, n, d, 1, te.Data[lo*d:hi*d], d, tr.Data, d, 0, sims, n)
		h1 := make([]int, rows)
		h5 := make([]int, rows)
		parallel.For(rows, 8, func(r0, r1 int) {
			idx := make([]int, n)
			votes := make([]float64, cfg.NumClasses)
			order := make([]int, cfg.NumClasses)
			for r := r0; r < r1; r++ {
				s := sims[r*n : (r+1)*n]
				topK(s, idx, k)
				clear(votes)
				for _, j := range idx[:k] {
					votes[trainLabels[j]] += math.Exp(float64(s[j] / cfg.Temperature))
				}
				for c := range order {
					order[c] = c
				}
				sort.SliceStable(order, func(a, b int) bool { return votes[order[a]] > votes[order[b]] })
				want := testLabels[lo+r]
				if order[0] == want {
					h1[r] = 1
				}
				for _, c := range order[:min(5, len(order))] {
					if c == want {
						h5[r] = 1
					}
				}
			}
		})
		for r := range rows {
			hit1 += h1[r]
			hit5 += h5[r]
		}
	}
	return float64(hit1) / float64(m), float64(hit5) / float64(m), nil
}

// topK moves the indices of the k largest values of s into idx[:k]
// (unordered) using a partial quickselect over idx.
func topK(s []float32, idx []int, k int) {
	for i := range idx {
		idx[i] = i
	}
	lo, hi := 0, len(idx)-1
	for lo < hi {
		p := s[idx[(lo+hi)/2]]
		i, j := lo, hi
		for i <= j {
			for s[idx[i]] > p {
				i++
			}
			for s[idx[j]] < p {
				j--
			}
			if i <= j {
				idx[i], idx[j] = idx[j], idx[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}

// normalizedRows returns a copy of x [N, D] with unit-length rows.
func normalizedRows(x *tensor.Tensor) *tensor.Tensor {
	out := x.Clone()
	d := x.Dim(1)
	for i := 0; i < x.Dim(0); i++ {
		row := out.Data[i*d : (i+1)*d]
		var ss float64
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		inv := float32(1 / math.Max(math.Sqrt(ss), 1e-12))
		for j := range row {
			row[j] *= inv
		}
	}
	return out
}
