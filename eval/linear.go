package eval

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// LinearConfig configures the linear probe. Zero values take the defaults
// noted.
type LinearConfig struct {
	NumClasses  int
	Epochs      int     // 100
	BatchSize   int     // 256
	LR          float32 // 0.1 peak, cosine-decayed to 0 over all steps
	Momentum    float32 // 0.9
	WeightDecay float32 // 0 (features are standardised, so little is needed)
	Seed        uint64
}

func (c *LinearConfig) defaults() {
	if c.Epochs == 0 {
		c.Epochs = 100
	}
	if c.BatchSize == 0 {
		c.BatchSize = 256
	}
	if c.LR == 0 {
		c.LR = 0.1
	}
	if c.Momentum == 0 {
		c.Momentum = 0.9
	}
}

// LinearProbe trains a multinomial logistic regression on frozen train
// features [N, D] (standardised with the training mean and std) with SGD,
// momentum and a cosine learning-rate schedule, and returns top-1/top-5 on
// the test features. Features are computed once by the caller, so the
// encoder is untouched by construction.
func LinearProbe(train *tensor.Tensor, trainLabels []int, test *tensor.Tensor, testLabels []int, cfg LinearConfig) (Result, error) {
	cfg.defaults()
	if train.Rank() != 2 || test.Rank() != 2 || train.Dim(1) != test.Dim(1) {
		return Result{}, fmt.Errorf("linear probe: feature shapes %v and %v do not match", train.Shape(), test.Shape())
	}
	n, d, c := train.Dim(0), train.Dim(1), cfg.NumClasses
	if len(trainLabels) != n || len(testLabels) != test.Dim(0) {
		return Result{}, fmt.Errorf("linear probe: label counts %d/%d do not match features %d/%d", len(trainLabels), len(testLabels), n, test.Dim(0))
	}
	if c <= 0 || n == 0 {
		return Result{}, fmt.Errorf("linear probe: need classes > 0 and training samples (got %d classes, %d samples)", c, n)
	}
	for _, l := range append(append([]int(nil), trainLabels...), testLabels...) {
		if l < 0 || l >= c {
			return Result{}, fmt.Errorf("linear probe: label %d outside [0, %d)", l, c)
		}
	}
	mean, std := columnStats(train)
	xs := standardize(train, mean, std)
	xt := standardize(test, mean, std)

	w := make([]float32, c*d) // [C, D]
	b := make([]float32, c)
	vw := make([]float32, c*d)
	vb := make([]float32, c)
	gw := make([]float32, c*d)
	gb := make([]float32, c)
	bs := min(cfg.BatchSize, n)
	xb := make([]float32, bs*d)
	logits := make([]float32, bs*c)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x11ea7))
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	stepsPerEpoch := (n + bs - 1) / bs
	total := cfg.Epochs * stepsPerEpoch
	step := 0
	for ep := 0; ep < cfg.Epochs; ep++ {
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for lo := 0; lo < n; lo += bs {
			hi := min(lo+bs, n)
			rows := hi - lo
			for r := 0; r < rows; r++ {
				copy(xb[r*d:(r+1)*d], xs.Data[perm[lo+r]*d:(perm[lo+r]+1)*d])
			}
			kernels.Sgemm(false, true, rows, c, d, 1, xb, d, w, d, 0, logits, c)
			for r := 0; r < rows; r++ {
				row := logits[r*c : (r+1)*c]
				for j := range row {
					row[j] += b[j]
				}
				softmaxInPlace(row)
				row[trainLabels[perm[lo+r]]] -= 1
				for j := range row {
					row[j] /= float32(rows)
				}
			}
			// gw[C,D] = gradᵀ[C,rows] · x[rows,D]
			kernels.Sgemm(true, false, c, d, rows, 1, logits, c, xb, d, 0, gw, d)
			clear(gb)
			for r := 0; r < rows; r++ {
				for j := 0; j < c; j++ {
					gb[j] += logits[r*c+j]
				}
			}
			lr := float32(0.5 * float64(cfg.LR) * (1 + math.Cos(math.Pi*float64(step)/float64(total))))
			for i := range w {
				g := gw[i] + cfg.WeightDecay*w[i]
				vw[i] = cfg.Momentum*vw[i] + g
				w[i] -= lr * vw[i]
			}
			for j := range b {
				vb[j] = cfg.Momentum*vb[j] + gb[j]
				b[j] -= lr * vb[j]
			}
			step++
		}
	}
	return classify(xt, testLabels, w, b, c), nil
}

func classify(x *tensor.Tensor, labels []int, w, b []float32, c int) Result {
	m, d := x.Dim(0), x.Dim(1)
	if m == 0 {
		return Result{}
	}
	logits := make([]float32, m*c)
	kernels.Sgemm(false, true, m, c, d, 1, x.Data, d, w, d, 0, logits, c)
	var h1, h5 int
	for r := 0; r < m; r++ {
		row := logits[r*c : (r+1)*c]
		want := row[labels[r]] + b[labels[r]]
		rank := 0
		for j, v := range row {
			if v+b[j] > want || (v+b[j] == want && j < labels[r]) {
				rank++
			}
		}
		if rank == 0 {
			h1++
		}
		if rank < 5 {
			h5++
		}
	}
	return Result{Top1: float64(h1) / float64(m), Top5: float64(h5) / float64(m)}
}

func softmaxInPlace(row []float32) {
	mx := row[0]
	for _, v := range row {
		mx = max(mx, v)
	}
	var s float64
	for j, v := range row {
		e := math.Exp(float64(v - mx))
		row[j] = float32(e)
		s += e
	}
	inv := float32(1 / s)
	for j := range row {
		row[j] *= inv
	}
}

func columnStats(x *tensor.Tensor) (mean, std []float32) {
	n, d := x.Dim(0), x.Dim(1)
	m := make([]float64, d)
	v := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, a := range x.Data[i*d : (i+1)*d] {
			m[j] += float64(a)
		}
	}
	for j := range m {
		m[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for j, a := range x.Data[i*d : (i+1)*d] {
			e := float64(a) - m[j]
			v[j] += e * e
		}
	}
	mean, std = make([]float32, d), make([]float32, d)
	for j := range m {
		mean[j] = float32(m[j])
		std[j] = float32(math.Sqrt(v[j]/float64(n)) + 1e-6)
	}
	return mean, std
}

func standardize(x *tensor.Tensor, mean, std []float32) *tensor.Tensor {
	out := x.Clone()
	d := x.Dim(1)
	for i := 0; i < x.Dim(0); i++ {
		row := out.Data[i*d : (i+1)*d]
		for j := range row {
			row[j] = (row[j] - mean[j]) / std[j]
		}
	}
	return out
}
