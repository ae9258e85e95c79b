package methods

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/eval"
	"github.com/contrastive-ssl/contrastive/tensor"
)

func bankRows(rows ...[]float32) *Bank {
	d := len(rows[0])
	t := tensor.New(len(rows), d)
	for i, r := range rows {
		copy(t.Data[i*d:], r)
	}
	return &Bank{Rows: t, Momentum: 0.5}
}

func closeTo(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

// TestBankUpdateByHand checks m_i ← normalise(μ·m_i + (1−μ)·f_i) with
// μ = 0.5 on a 4×2 bank:
//
//	row 0: (1, 0) with f = (0, 1)    → (0.5, 0.5)/‖·‖ = (1/√2, 1/√2)
//	row 2: (0.6, 0.8) with f = (0.6, 0.8) → unchanged
//	row 3: (0, 1) with f = (1, 0) then f = (−1, 0): both from the old
//	       row, the last wins → (−0.5, 0.5)/‖·‖ = (−1/√2, 1/√2)
//	row 1: not in the batch → unchanged
func TestBankUpdateByHand(t *testing.T) {
	b := bankRows([]float32{1, 0}, []float32{0, -1}, []float32{0.6, 0.8}, []float32{0, 1})
	f := tensor.FromSlice([]float32{0, 1, 0.6, 0.8, 1, 0, -1, 0}, 4, 2)
	b.Stage([]int{0, 2, 3, 3}, f)
	f.Data[0] = 99 // Stage copied it
	before := b.Rows.Clone()
	b.Update()
	r := float32(1 / math.Sqrt2)
	want := []float32{r, r, 0, -1, 0.6, 0.8, -r, r}
	if !closeTo(b.Rows.Data, want, 1e-6) {
		t.Fatalf("bank after update %v, want %v (before %v)", b.Rows.Data, want, before.Data)
	}
	b.Update() // nothing staged: no change
	if !closeTo(b.Rows.Data, want, 0) {
		t.Fatalf("a second Update changed the bank: %v", b.Rows.Data)
	}
	// μ = 0 replaces the rows by the (normalised) features.
	b.Momentum = 0
	b.Stage([]int{1}, tensor.FromSlice([]float32{3, 4}, 1, 2))
	b.Update()
	if got := b.Rows.Data[2:4]; !closeTo(got, []float32{0.6, 0.8}, 1e-6) {
		t.Fatalf("μ = 0: row 1 is %v, want (0.6, 0.8)", got)
	}
}

func TestNewBankUnitRows(t *testing.T) {
	b := NewBank(50, 7, 0.5, rand.New(rand.NewPCG(1, 2)))
	for i := 0; i < b.Len(); i++ {
		var ss float64
		for _, x := range b.Rows.Data[i*7 : (i+1)*7] {
			ss += float64(x) * float64(x)
		}
		if math.Abs(ss-1) > 1e-5 {
			t.Fatalf("row %d has squared norm %v, want 1", i, ss)
		}
	}
	c := NewBank(50, 7, 0.5, rand.New(rand.NewPCG(1, 2)))
	if !closeTo(b.Rows.Data, c.Rows.Data, 0) {
		t.Fatal("same seed, different banks")
	}
}

// TestBankSampleUniform draws 100000 noise indices from 10 rows: every
// row within 5% of its expected count, and the same RNG state gives the
// same draw.
func TestBankSampleUniform(t *testing.T) {
	b := NewBank(10, 2, 0.5, rand.New(rand.NewPCG(1, 1)))
	idx := b.Sample(100000, rand.New(rand.NewPCG(3, 4)), nil)
	counts := make([]int, 10)
	for _, i := range idx {
		counts[i]++
	}
	for i, c := range counts {
		if math.Abs(float64(c)-10000) > 500 {
			t.Errorf("row %d drawn %d times, want about 10000", i, c)
		}
	}
	again := b.Sample(100000, rand.New(rand.NewPCG(3, 4)), make([]int, 5))
	for i := range again {
		if again[i] != idx[i] {
			t.Fatalf("draw %d differs for the same seed", i)
		}
	}
	if noiseRNG(1, 5).Uint64() == noiseRNG(1, 6).Uint64() {
		t.Error("steps 5 and 6 share their noise stream")
	}
}

func TestBankLookupOutOfRange(t *testing.T) {
	b := NewBank(4, 2, 0.5, rand.New(rand.NewPCG(1, 1)))
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "stable indices") {
			t.Fatalf("panic %v, want one about stable sample indices", r)
		}
	}()
	b.Lookup([]int{0, 4})
}

// TestBankCheckpointRoundTrip saves the rows under extra/ and loads them
// into a bank of another seed: bit for bit equal. A bank of another size
// is refused with an error naming the dataset.
func TestBankCheckpointRoundTrip(t *testing.T) {
	a := NewBank(37, 5, 0.5, rand.New(rand.NewPCG(1, 1)))
	path := filepath.Join(t.TempDir(), "bank.safetensors")
	if err := checkpoint.Save(path, &checkpoint.Checkpoint{Extra: map[string]*tensor.Tensor{"memory_bank": a.Rows}}); err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBank(37, 5, 0.5, rand.New(rand.NewPCG(2, 2)))
	if err := b.LoadRows(ck.Extra["memory_bank"]); err != nil {
		t.Fatal(err)
	}
	for i := range a.Rows.Data {
		if math.Float32bits(a.Rows.Data[i]) != math.Float32bits(b.Rows.Data[i]) {
			t.Fatalf("element %d: %v after the round trip, want %v", i, b.Rows.Data[i], a.Rows.Data[i])
		}
	}
	c := NewBank(36, 5, 0.5, rand.New(rand.NewPCG(2, 2)))
	if err := c.LoadRows(ck.Extra["memory_bank"]); err == nil || !strings.Contains(err.Error(), "37 rows but the dataset has 36") {
		t.Fatalf("loading 37 rows into a bank of 36: %v", err)
	}
	if err := NewBank(37, 4, 0.5, rand.New(rand.NewPCG(2, 2))).LoadRows(ck.Extra["memory_bank"]); err == nil {
		t.Fatal("loading D = 5 rows into a bank of D = 4 succeeded")
	}
}

// TestBankKNNByHand: two classes on the unit circle; with k = 1 every
// test point takes the label of its nearest bank row.
func TestBankKNNByHand(t *testing.T) {
	b := bankRows([]float32{1, 0}, []float32{0.8, 0.6}, []float32{-1, 0}, []float32{-0.8, -0.6})
	labels := []int{0, 0, 1, 1}
	test := tensor.FromSlice([]float32{2, 0.1, -3, 0.5, 0.6, 0.8, -0.1, -1}, 4, 2)
	top1, top5, err := b.KNN(test, []int{0, 1, 0, 0}, labels, KNNConfig{K: 1, Temperature: 0.07, NumClasses: 2})
	if err != nil {
		t.Fatal(err)
	}
	// The last point (−0.1, −1) is nearest to (−0.8, −0.6), class 1.
	if top1 != 0.75 || top5 != 1 {
		t.Fatalf("top-1 %v top-5 %v, want 0.75 and 1", top1, top5)
	}
	if _, _, err := b.KNN(test, []int{0, 1, 0, 0}, labels[:3], KNNConfig{K: 1, Temperature: 0.07, NumClasses: 2}); err == nil {
		t.Error("3 bank labels for 4 rows accepted")
	}
	if _, _, err := b.KNN(test, []int{0, 1, 0, 2}, labels, KNNConfig{K: 1, Temperature: 0.07, NumClasses: 2}); err == nil {
		t.Error("label 2 of 2 classes accepted")
	}
}

// TestBankKNNMatchesEval: classifying from the bank is eval.KNN with the
// bank as the training features, on 300 rows of 10 noisy classes.
func TestBankKNNMatchesEval(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const n, m, d, classes = 300, 70, 8, 10
	centres := tensor.New(classes, d)
	for i := range centres.Data {
		centres.Data[i] = float32(rng.NormFloat64())
	}
	draw := func(rows int) (*tensor.Tensor, []int) {
		x := tensor.New(rows, d)
		labels := make([]int, rows)
		for i := range labels {
			labels[i] = rng.IntN(classes)
			for j := 0; j < d; j++ {
				x.Data[i*d+j] = centres.Data[labels[i]*d+j] + 0.8*float32(rng.NormFloat64())
			}
		}
		return x, labels
	}
	rows, bankLabels := draw(n)
	for i := 0; i < n; i++ {
		normalize(rows.Data[i*d : (i+1)*d])
	}
	b := &Bank{Rows: rows, Momentum: 0.5}
	test, testLabels := draw(m)
	cfg := KNNConfig{K: 20, Temperature: 0.07, NumClasses: classes}
	top1, top5, err := b.KNN(test, testLabels, bankLabels, cfg)
	if err != nil {
		t.Fatal(err)
	}
	want, err := eval.KNN(rows, bankLabels, test, testLabels, eval.KNNConfig{K: cfg.K, Temperature: cfg.Temperature, NumClasses: classes})
	if err != nil {
		t.Fatal(err)
	}
	if top1 != want.Top1 || top5 != want.Top5 {
		t.Fatalf("bank kNN top-1 %v top-5 %v, eval.KNN %v %v", top1, top5, want.Top1, want.Top5)
	}
	if top1 < 0.5 {
		t.Fatalf("top-1 %v on well separated classes, want ≥ 0.5", top1)
	}
}
