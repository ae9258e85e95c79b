package loss

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/tensor"
)

const swavFixture = "testdata/swav.safetensors"

const swavRegen = "re-run: /usr/bin/python3 tools/gen_swav_fixtures.py"

// swavFile opens the SwAV fixture and returns getters for its float and
// integer tensors and the cases listed under the metadata key.
func swavFile(t *testing.T, casesKey string) (func(string) *tensor.Tensor, func(string) []int, []string) {
	t.Helper()
	f, err := safetensors.Read(swavFixture)
	if err != nil {
		t.Fatalf("%v (%s)", err, swavRegen)
	}
	if f.Metadata["producer"] != "tools/gen_swav_fixtures.py" || f.Metadata[casesKey] == "" {
		t.Fatalf("%s: bad metadata %v (%s)", swavFixture, f.Metadata, swavRegen)
	}
	get := func(name string) *tensor.Tensor {
		x, err := f.Float32(name)
		if err != nil {
			t.Fatalf("%s: %v (%s)", swavFixture, err, swavRegen)
		}
		return x
	}
	ints := func(name string) []int {
		x, err := f.Ints(name)
		if err != nil {
			t.Fatalf("%s: %v (%s)", swavFixture, err, swavRegen)
		}
		return x
	}
	return get, ints, strings.Split(f.Metadata[casesKey], ",")
}

// sinkhornLoops is distributed_sinkhorn of SwAV's main_swav.py transcribed
// loop by loop in float64, on the paper's K×B matrix Q (Q[k][b]).
func sinkhornLoops(scores *tensor.Tensor, eps float64, iters int) [][]float64 {
	b, k := scores.Dim(0), scores.Dim(1)
	q := make([][]float64, k)
	var sum float64
	for p := 0; p < k; p++ {
		q[p] = make([]float64, b)
		for s := 0; s < b; s++ {
			q[p][s] = math.Exp(float64(scores.Data[s*k+p]) / eps)
			sum += q[p][s]
		}
	}
	for p := range q {
		for s := range q[p] {
			q[p][s] /= sum
		}
	}
	for range iters {
		for p := 0; p < k; p++ { // rows: each prototype sums to 1/K
			var r float64
			for s := 0; s < b; s++ {
				r += q[p][s]
			}
			for s := 0; s < b; s++ {
				q[p][s] /= r * float64(k)
			}
		}
		for s := 0; s < b; s++ { // columns: each sample sums to 1/B
			var c float64
			for p := 0; p < k; p++ {
				c += q[p][s]
			}
			for p := 0; p < k; p++ {
				q[p][s] /= c * float64(b)
			}
		}
	}
	for p := range q {
		for s := range q[p] {
			q[p][s] *= float64(b)
		}
	}
	return q
}

// unitScores returns the cosine similarities of n random unit vectors with
// k random unit prototypes of dimension d: [n, k].
func unitScores(rng *rand.Rand, n, k, d int) *tensor.Tensor {
	unit := func(rows int) *tensor.Tensor {
		t := randn(rng, rows, d)
		for r := 0; r < rows; r++ {
			row := t.Data[r*d : (r+1)*d]
			var ss float64
			for _, x := range row {
				ss += float64(x) * float64(x)
			}
			for j := range row {
				row[j] /= float32(math.Sqrt(ss))
			}
		}
		return t
	}
	z, c := unit(n), unit(k)
	s := tensor.New(n, k)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			var dot float32
			for e := 0; e < d; e++ {
				dot += z.Data[i*d+e] * c.Data[j*d+e]
			}
			s.Data[i*k+j] = dot
		}
	}
	return s
}

// marginals returns the sums of the rows (samples) and columns
// (prototypes) of q [N, K].
func marginals(q *tensor.Tensor) (rows, cols []float64) {
	n, k := q.Dim(0), q.Dim(1)
	rows, cols = make([]float64, n), make([]float64, k)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			rows[i] += float64(q.Data[i*k+j])
			cols[j] += float64(q.Data[i*k+j])
		}
	}
	return rows, cols
}

func TestSinkhornMatchesPyTorch(t *testing.T) {
	get, ints, cases := swavFile(t, "sinkhorn_cases")
	for _, key := range cases {
		t.Run(key, func(t *testing.T) {
			scores, want := get(key+".scores"), get(key+".q")
			eps := get(key + ".eps").Data[0]
			iters := ints(key + ".iters")[0]
			q := SinkhornKnopp(scores, eps, iters)
			defer tensor.Put(q)
			if d := tensor.MaxAbsDiff(q, want); d > 2e-6 {
				t.Errorf("codes differ from PyTorch by %.3g", d)
			}
			oracle := sinkhornLoops(scores, float64(eps), iters)
			n, k := q.Dim(0), q.Dim(1)
			for i := 0; i < n; i++ {
				for j := 0; j < k; j++ {
					if d := math.Abs(oracle[j][i] - float64(want.Data[i*k+j])); d > 1e-6 {
						t.Fatalf("loop oracle Q[%d][%d] = %.7g, PyTorch %.7g", j, i, oracle[j][i], want.Data[i*k+j])
					}
				}
			}
			// Each sample's code is a distribution over the prototypes.
			rows, _ := marginals(q)
			for i, r := range rows {
				if math.Abs(r-1) > 1e-5 {
					t.Errorf("sample %d: codes sum to %.7g, want 1", i, r)
				}
			}
		})
	}
}

// TestSinkhornMarginals: the iteration converges to the equal partition,
// every prototype receiving N/K samples, while every sample's code sums to
// 1; with the paper's 3 iterations the partition is already close.
func TestSinkhornMarginals(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct {
		n, k, iters int
		tol         float64 // on |column sum / (N/K) − 1|
	}{{64, 8, 3, 0.5}, {256, 10, 3, 0.5}, {130, 13, 200, 1e-3}, {24, 24, 200, 1e-3}, {1, 5, 50, 1e-5}} {
		scores := unitScores(rng, c.n, c.k, 16)
		q := SinkhornKnopp(scores, 0.05, c.iters)
		rows, cols := marginals(q)
		for i, r := range rows {
			if math.Abs(r-1) > 1e-5 {
				t.Errorf("N=%d K=%d: sample %d sums to %.7g, want 1", c.n, c.k, i, r)
			}
		}
		for j, s := range cols {
			if d := math.Abs(s*float64(c.k)/float64(c.n) - 1); d > c.tol {
				t.Errorf("N=%d K=%d after %d iterations: prototype %d receives %.5g, want N/K = %.5g (±%g)", c.n, c.k, c.iters, j, s, float64(c.n)/float64(c.k), c.tol)
			}
		}
		tensor.Put(q)
	}
}

// TestSinkhornOracle compares with the loop-by-loop oracle on edge sizes,
// including more rows than one block and a single sample or prototype.
func TestSinkhornOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct{ n, k, iters int }{{1, 1, 3}, {1, 7, 3}, {9, 1, 3}, {65, 3, 3}, {200, 31, 3}, {10, 4, 0}} {
		scores := unitScores(rng, c.n, c.k, 8)
		q := SinkhornKnopp(scores, 0.05, c.iters)
		oracle := sinkhornLoops(scores, 0.05, c.iters)
		for i := 0; i < c.n; i++ {
			for j := 0; j < c.k; j++ {
				o := oracle[j][i]
				if d := math.Abs(float64(q.Data[i*c.k+j]) - o); d > 2e-6*math.Max(1, o) {
					t.Fatalf("N=%d K=%d iters %d: Q[%d, %d] = %.7g, oracle %.7g", c.n, c.k, c.iters, i, j, q.Data[i*c.k+j], o)
				}
			}
		}
		tensor.Put(q)
	}
}

// TestSinkhornWorkersIndependent: the codes are bit-identical with one
// worker and with several (fixed-size row blocks), so resumed runs repeat.
func TestSinkhornWorkersIndependent(t *testing.T) {
	scores := unitScores(rand.New(rand.NewPCG(15, 16)), 300, 40, 8)
	old := parallel.SetWorkers(1)
	one := SinkhornKnopp(scores, 0.05, 3)
	parallel.SetWorkers(4)
	four := SinkhornKnopp(scores, 0.05, 3)
	parallel.SetWorkers(old)
	for i := range one.Data {
		if one.Data[i] != four.Data[i] {
			t.Fatalf("element %d: %v with 1 worker, %v with 4", i, one.Data[i], four.Data[i])
		}
	}
}

// TestSinkhornUnderflow: a sample whose scores are far below the others
// underflows to zero instead of producing NaN.
func TestSinkhornUnderflow(t *testing.T) {
	scores := tensor.FromSlice([]float32{1, 0.5, -9, -9.5, 0.2, 0.9}, 3, 2)
	q := SinkhornKnopp(scores, 0.05, 3)
	for i, x := range q.Data {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("element %d is %v: %v", i, x, q.Data)
		}
	}
	if q.Data[2] != 0 || q.Data[3] != 0 {
		t.Errorf("underflowed sample has codes %v, want 0", q.Data[2:4])
	}
}

func TestSinkhornPanics(t *testing.T) {
	for _, c := range []struct {
		s     *tensor.Tensor
		eps   float32
		iters int
	}{
		{tensor.New(4), 0.05, 3},
		{tensor.New(0, 3), 0.05, 3},
		{tensor.New(2, 3), 0, 3},
		{tensor.New(2, 3), 0.05, -1},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "loss.SinkhornKnopp") {
					t.Errorf("%v ε=%v iters %d: panic %v", c.s.Shape(), c.eps, c.iters, r)
				}
			}()
			SinkhornKnopp(c.s, c.eps, c.iters)
		}()
	}
}
