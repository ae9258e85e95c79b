package loss

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// fakeGroup is a process group of p goroutines: every member's reduction
// waits for all p members and then sees the element-wise reduction of
// their slices.
type fakeGroup struct {
	p       int
	mu      sync.Mutex
	cond    *sync.Cond
	gen     int
	arrived int
	acc     []float64
	result  []float64
}

func newFakeGroup(p int) *fakeGroup {
	g := &fakeGroup{p: p}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *fakeGroup) reduce(x []float64, f func(a, b float64) float64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gen := g.gen
	if g.arrived == 0 {
		g.acc = append(g.acc[:0], x...)
	} else {
		for i, v := range x {
			g.acc[i] = f(g.acc[i], v)
		}
	}
	g.arrived++
	if g.arrived == g.p {
		g.result = append([]float64(nil), g.acc...)
		g.arrived = 0
		g.gen++
		g.cond.Broadcast()
	} else {
		for gen == g.gen {
			g.cond.Wait()
		}
	}
	copy(x, g.result)
}

func (g *fakeGroup) AllReduceSum(x []float64) {
	g.reduce(x, func(a, b float64) float64 { return a + b })
}
func (g *fakeGroup) AllReduceMax(x []float64) { g.reduce(x, math.Max) }

// TestSinkhornKnoppDist: three processes holding 5, 5 and 5 rows of a
// score matrix get the rows of the single-process codes.
func TestSinkhornKnoppDist(t *testing.T) {
	const p, rows, k = 3, 5, 7
	rng := rand.New(rand.NewPCG(3, 4))
	all := tensor.New(p*rows, k)
	for i := range all.Data {
		all.Data[i] = float32(rng.Float64()*2 - 1)
	}
	want := SinkhornKnopp(all, 0.05, 3)
	g := newFakeGroup(p)
	got := make([]*tensor.Tensor, p)
	var wg sync.WaitGroup
	for r := range p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[r] = SinkhornKnoppDist(all.Slice(r*rows, (r+1)*rows).Clone(), 0.05, 3, g)
		}()
	}
	wg.Wait()
	local := SinkhornKnopp(all.Slice(0, rows).Clone(), 0.05, 3)
	var maxLocal float64
	for r := range p {
		for i, v := range got[r].Data {
			w := want.Data[r*rows*k+i]
			if math.Abs(float64(v-w)) > 1e-5 {
				t.Fatalf("process %d row %d prototype %d: %v, single process %v", r, i/k, i%k, v, w)
			}
			if r == 0 {
				maxLocal = math.Max(maxLocal, math.Abs(float64(local.Data[i]-w)))
			}
		}
	}
	if maxLocal < 1e-3 {
		t.Errorf("codes from one process's rows alone are within %g of the global ones: the test cannot tell them apart", maxLocal)
	}
}
