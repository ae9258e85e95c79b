package eval

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// blobs returns n points per class around random unit centres in d dims
// with Gaussian noise sigma.
func blobs(seed uint64, classes, n, d int, sigma float64) (*tensor.Tensor, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float64, classes)
	for c := range centres {
		centres[c] = make([]float64, d)
		for j := range centres[c] {
			centres[c][j] = rng.NormFloat64()
		}
	}
	x := tensor.New(classes*n, d)
	labels := make([]int, classes*n)
	for i := range labels {
		c := i % classes
		labels[i] = c
		for j := 0; j < d; j++ {
			x.Data[i*d+j] = float32(centres[c][j] + sigma*rng.NormFloat64())
		}
	}
	return x, labels
}

// knnLoops is the oracle: a direct transcription of InstDisc's weighted
// kNN, sorting all similarities.
func knnLoops(train *tensor.Tensor, trl []int, test *tensor.Tensor, tel []int, k int, temp float64, classes int) (top1, top5 float64) {
	tr, te := normalizedRows(train), normalizedRows(test)
	n, d := train.Dim(0), train.Dim(1)
	for i := 0; i < test.Dim(0); i++ {
		type nb struct {
			s float64
			j int
		}
		var nbs []nb
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < d; p++ {
				s += float64(te.Data[i*d+p]) * float64(tr.Data[j*d+p])
			}
			nbs = append(nbs, nb{s, j})
		}
		sort.Slice(nbs, func(a, b int) bool { return nbs[a].s > nbs[b].s })
		votes := make([]float64, classes)
		for _, x := range nbs[:k] {
			votes[trl[x.j]] += math.Exp(x.s / temp)
		}
		rank := 0
		for c, v := range votes {
			if v > votes[tel[i]] || (v == votes[tel[i]] && c < tel[i]) {
				rank++
			}
		}
		if rank == 0 {
			top1++
		}
		if rank < 5 {
			top5++
		}
	}
	m := float64(test.Dim(0))
	return top1 / m, top5 / m
}

func TestKNNMatchesLoops(t *testing.T) {
	train, trl := blobs(1, 7, 40, 16, 1.2)
	test, tel := blobs(2, 7, 10, 16, 1.2)
	for _, k := range []int{1, 5, 20, 280} {
		got, err := KNN(train, trl, test, tel, KNNConfig{K: k, Temperature: 0.07, NumClasses: 7, ChunkRows: 13})
		if err != nil {
			t.Fatal(err)
		}
		w1, w5 := knnLoops(train, trl, test, tel, k, 0.07, 7)
		if math.Abs(got.Top1-w1) > 1e-9 || math.Abs(got.Top5-w5) > 1e-9 {
			t.Errorf("k=%d: got %+v, loops top1=%v top5=%v", k, got, w1, w5)
		}
	}
}

func TestKNNAndLinearSeparateBlobs(t *testing.T) {
	// The blobs share the seed of their centres, so train and test come
	// from the same classes; noise 0.5 leaves them well separated.
	train, trl := blobs(3, 10, 100, 32, 0.5)
	test, tel := blobs(3, 10, 30, 32, 0.5)
	knn, err := KNN(train, trl, test, tel, KNNConfig{K: 20, Temperature: 0.1, NumClasses: 10})
	if err != nil {
		t.Fatal(err)
	}
	if knn.Top1 < 0.95 {
		t.Errorf("kNN top1 = %.3f on separable blobs, want >= 0.95", knn.Top1)
	}
	lin, err := LinearProbe(train, trl, test, tel, LinearConfig{NumClasses: 10, Epochs: 20, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if lin.Top1 < 0.95 || lin.Top5 < lin.Top1 {
		t.Errorf("linear probe = %+v on separable blobs, want top1 >= 0.95", lin)
	}
	// Random labels: nothing to learn, accuracy near chance (0.1).
	rng := rand.New(rand.NewPCG(9, 9))
	shuffled := append([]int(nil), tel...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	chance, _ := KNN(train, trl, test, shuffled, KNNConfig{K: 20, Temperature: 0.1, NumClasses: 10})
	if chance.Top1 > 0.3 {
		t.Errorf("kNN on shuffled test labels = %.3f, want near chance", chance.Top1)
	}
}

func TestBadInput(t *testing.T) {
	a := tensor.New(4, 3)
	b := tensor.New(2, 5)
	if _, err := KNN(a, make([]int, 4), b, make([]int, 2), KNNConfig{K: 1, Temperature: 1, NumClasses: 2}); err == nil {
		t.Error("KNN with mismatched dims: no error")
	}
	if _, err := KNN(a, []int{0, 1, 2, 0}, a, []int{0, 0, 0, 0}, KNNConfig{K: 1, Temperature: 1, NumClasses: 2}); err == nil {
		t.Error("KNN with label out of range: no error")
	}
	if _, err := LinearProbe(a, make([]int, 3), a, make([]int, 4), LinearConfig{NumClasses: 2}); err == nil {
		t.Error("LinearProbe with label count mismatch: no error")
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
