package loss

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/autograd/gradcheck"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// swappedLoops is the loss of main_swav.py's train loop transcribed loop
// by loop in float64: for each assigned crop s, the mean over images of
// −Σ_k q_s log softmax(z_v·C/τ) summed over the other crops v, divided by
// V−1; then the mean over the assigned crops.
func swappedLoops(scores *tensor.Tensor, codes []*tensor.Tensor, crops []int, tau float64) float64 {
	b, k := codes[0].Dim(0), codes[0].Dim(1)
	v := scores.Dim(0) / b
	logSoftmax := func(row []float32) []float64 {
		out := make([]float64, len(row))
		m := math.Inf(-1)
		for _, x := range row {
			m = math.Max(m, float64(x)/tau)
		}
		var s float64
		for _, x := range row {
			s += math.Exp(float64(x)/tau - m)
		}
		for j, x := range row {
			out[j] = float64(x)/tau - m - math.Log(s)
		}
		return out
	}
	var loss float64
	for i, s := range crops {
		var sub float64
		for t := 0; t < v; t++ {
			if t == s {
				continue
			}
			var mean float64
			for n := 0; n < b; n++ {
				r := t*b + n
				lp := logSoftmax(scores.Data[r*k : (r+1)*k])
				for j := 0; j < k; j++ {
					mean -= float64(codes[i].Data[n*k+j]) * lp[j]
				}
			}
			sub += mean / float64(b)
		}
		loss += sub / float64(v-1)
	}
	return loss / float64(len(crops))
}

// swavCodes computes the codes of the crops 0..a−1 as main_swav.py does:
// Sinkhorn-Knopp over the crop's B scores, preceded by the scores of the
// crop's queue when one is given ([a, L, d] unit vectors), keeping the
// last B rows.
func swavCodes(scores, c, queue *tensor.Tensor, a, b int) []*tensor.Tensor {
	codes := make([]*tensor.Tensor, a)
	for i := 0; i < a; i++ {
		rows := scores.Slice(i*b, (i+1)*b)
		if queue != nil {
			l, d := queue.Dim(1), queue.Dim(2)
			qi := queue.Reshape(a*l, d).Slice(i*l, (i+1)*l)
			autograd.NoGrad(func() {
				rows = autograd.Concat(0, autograd.MatMul(autograd.Const(qi), autograd.Const(c), false, true), autograd.Const(rows)).Data
			})
		}
		q := SinkhornKnopp(rows, 0.05, 3)
		codes[i] = q.Slice(q.Dim(0)-b, q.Dim(0)).Clone()
		tensor.Put(q)
	}
	return codes
}

func TestSwappedPredictionMatchesPyTorch(t *testing.T) {
	get, ints, cases := swavFile(t, "swapped_cases")
	for _, key := range cases {
		t.Run(key, func(t *testing.T) {
			z, c := autograd.Param(get(key+".z")), autograd.Param(get(key+".c"))
			vc := ints(key + ".crops")
			v, a := vc[0], vc[1]
			b := z.Shape()[0] / v
			var queue *tensor.Tensor
			if !strings.HasSuffix(key, "_q0") {
				queue = get(key + ".queue")
			}
			scores := autograd.MatMul(autograd.L2Normalize(z, normEps), c, false, true)
			if d := tensor.MaxAbsDiff(scores.Data, get(key+".scores")); d > 1e-6 {
				t.Errorf("scores differ from PyTorch by %.3g", d)
			}
			codes := swavCodes(scores.Data, c.Data, queue, a, b)
			crops := make([]int, a)
			for i := range crops {
				crops[i] = i
				if d := tensor.MaxAbsDiff(codes[i], get(fmt.Sprintf("%s.codes%d", key, i))); d > 2e-6 {
					t.Errorf("codes of crop %d differ from PyTorch by %.3g", i, d)
				}
			}
			l := SwappedPrediction(scores, codes, crops, 0.1)
			got, want := l.Item(), get(key + ".loss").Data[0]
			if math.Abs(float64(got-want)) > 1e-5*math.Max(1, math.Abs(float64(want))) {
				t.Errorf("loss %.7g, PyTorch %.7g", got, want)
			}
			if o := swappedLoops(scores.Data, codes, crops, 0.1); math.Abs(o-float64(want)) > 1e-5*math.Max(1, o) {
				t.Errorf("loop oracle %.7g, PyTorch %.7g", o, want)
			}
			autograd.Backward(l)
			if d := tensor.MaxAbsDiff(z.Grad, get(key+".grad_z")); d > 2e-5 {
				t.Errorf("grad z differs from PyTorch by %.3g", d)
			}
			if d := tensor.MaxAbsDiff(c.Grad, get(key+".grad_c")); d > 2e-5 {
				t.Errorf("grad C differs from PyTorch by %.3g", d)
			}
			autograd.Free(l)
		})
	}
}

// randomCodes returns b random distributions over k prototypes.
func randomCodes(rng *rand.Rand, b, k int) *tensor.Tensor {
	q := tensor.New(b, k)
	for n := 0; n < b; n++ {
		var s float32
		for j := 0; j < k; j++ {
			x := float32(rng.ExpFloat64())
			q.Data[n*k+j] = x
			s += x
		}
		for j := 0; j < k; j++ {
			q.Data[n*k+j] /= s
		}
	}
	return q
}

// TestSwappedPredictionOracle compares with the loop oracle over edge
// shapes: one image, two crops only, 2 global + 6 local crops, a single
// assigned crop, and an assigned crop that is not the first.
func TestSwappedPredictionOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct {
		v, b, k int
		crops   []int
		tau     float32
	}{{2, 1, 3, []int{0, 1}, 0.1}, {2, 5, 4, []int{0}, 0.5}, {8, 4, 10, []int{0, 1}, 0.1}, {3, 7, 16, []int{2}, 1}, {5, 2, 1, []int{0, 3}, 0.1}} {
		scores := randn(rng, c.v*c.b, c.k)
		codes := make([]*tensor.Tensor, len(c.crops))
		for i := range codes {
			codes[i] = randomCodes(rng, c.b, c.k)
		}
		var got float32
		autograd.NoGrad(func() { got = SwappedPrediction(autograd.Const(scores), codes, c.crops, c.tau).Item() })
		want := swappedLoops(scores, codes, c.crops, float64(c.tau))
		if math.Abs(float64(got)-want) > 2e-5*math.Max(1, want) {
			t.Errorf("V=%d B=%d K=%d crops %v: %.7g, oracle %.7g", c.v, c.b, c.k, c.crops, got, want)
		}
	}
}

// TestSwappedPredictionClosedForm: equal scores make every prediction
// uniform, so L = log K whatever the codes; with one-hot codes matching
// scores far above the others, L → 0.
func TestSwappedPredictionClosedForm(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, k := range []int{1, 3, 100} {
		var got float32
		autograd.NoGrad(func() {
			got = SwappedPrediction(autograd.Const(tensor.Full(0.7, 4*3, k)), []*tensor.Tensor{randomCodes(rng, 3, k), randomCodes(rng, 3, k)}, []int{0, 1}, 0.1).Item()
		})
		if want := math.Log(float64(k)); math.Abs(float64(got)-want) > 1e-5 {
			t.Errorf("K=%d: %.7g, want log K = %.7g", k, got, want)
		}
	}
	scores := tensor.New(2*2, 3)
	codes := tensor.New(2, 3)
	for r := 0; r < 4; r++ {
		scores.Data[r*3+r%2] = 1 // image n scores prototype n in both crops
	}
	codes.Data[0], codes.Data[4] = 1, 1
	var got float32
	autograd.NoGrad(func() {
		got = SwappedPrediction(autograd.Const(scores), []*tensor.Tensor{codes, codes}, []int{0, 1}, 0.01).Item()
	})
	if got > 1e-6 {
		t.Errorf("confident correct predictions: loss %g, want ≈ 0", got)
	}
}

func TestSwappedPredictionGradcheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	codes := []*tensor.Tensor{randomCodes(rng, 2, 5), randomCodes(rng, 2, 5)}
	err := gradcheck.Check(func(v []*autograd.Value) *autograd.Value {
		return SwappedPrediction(v[0], codes, []int{1, 0}, 0.5)
	}, []*tensor.Tensor{randn(rng, 3*2, 5)}, gradcheck.Options{})
	if err != nil {
		t.Error(err)
	}
}

// TestSwappedPredictionDescends runs SwAV on free embeddings: 20 gradient
// steps on z with fixed unit prototypes, the codes recomputed by
// Sinkhorn-Knopp at every step.
func TestSwappedPredictionDescends(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const v, b, k, d = 4, 16, 8, 12
	base := randn(rng, b, d)
	z := tensor.New(v*b, d)
	for r := range v * b {
		for j := 0; j < d; j++ {
			z.Data[r*d+j] = base.Data[(r%b)*d+j] + 0.8*float32(rng.NormFloat64())
		}
	}
	zv := autograd.Param(z)
	var c *autograd.Value
	autograd.NoGrad(func() { c = autograd.Const(autograd.L2Normalize(autograd.Const(randn(rng, k, d)), normEps).Data) })
	var first, last float32
	for step := 0; step < 20; step++ {
		scores := autograd.MatMul(autograd.L2Normalize(zv, normEps), c, false, true)
		codes := swavCodes(scores.Data, c.Data, nil, 2, b)
		l := SwappedPrediction(scores, codes, []int{0, 1}, 0.1)
		if step == 0 {
			first = l.Item()
		}
		last = l.Item()
		autograd.Backward(l)
		for i := range zv.Data.Data {
			zv.Data.Data[i] -= 5 * zv.Grad.Data[i]
		}
		zv.ZeroGrad()
		autograd.Free(l)
	}
	t.Logf("loss %v → %v", first, last)
	if !(last < 0.8*first) {
		t.Errorf("loss %v → %v after 20 steps, want a drop of at least 20%%", first, last)
	}
}

func TestSwappedPredictionPanics(t *testing.T) {
	q := tensor.New(2, 3)
	for i, c := range []struct {
		scores *tensor.Tensor
		codes  []*tensor.Tensor
		crops  []int
		tau    float32
	}{
		{tensor.New(4, 3), []*tensor.Tensor{q}, []int{0, 1}, 0.1},                   // codes ≠ crops
		{tensor.New(2, 3), []*tensor.Tensor{q}, []int{0}, 0.1},                      // V = 1
		{tensor.New(5, 3), []*tensor.Tensor{q}, []int{0}, 0.1},                      // not V·B rows
		{tensor.New(4, 4), []*tensor.Tensor{q}, []int{0}, 0.1},                      // K differs
		{tensor.New(4, 3), []*tensor.Tensor{q, q}, []int{0, 0}, 0.1},                // repeated crop
		{tensor.New(4, 3), []*tensor.Tensor{q}, []int{2}, 0.1},                      // crop out of range
		{tensor.New(4, 3), []*tensor.Tensor{q}, []int{0}, 0},                        // τ = 0
		{tensor.New(4, 3), []*tensor.Tensor{q, tensor.New(2, 2)}, []int{0, 1}, 0.1}, // codes differ
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "loss.SwappedPrediction") {
					t.Errorf("case %d: panic %v", i, r)
				}
			}()
			SwappedPrediction(autograd.Const(c.scores), c.codes, c.crops, c.tau)
		}()
	}
}
