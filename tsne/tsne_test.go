package tsne

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func randomPoints(n, d int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func sqDist(x []float32, d, i, j int) float64 {
	var s float64
	for k := 0; k < d; k++ {
		v := float64(x[i*d+k]) - float64(x[j*d+k])
		s += v * v
	}
	return s
}

func TestNeighboursExact(t *testing.T) {
	n, d, k := 70, 6, 9
	x := randomPoints(n, d, 1)
	nbr, dist := Neighbours(x, n, d, k)
	for i := 0; i < n; i++ {
		var all []int
		for j := 0; j < n; j++ {
			if j != i {
				all = append(all, j)
			}
		}
		sort.Slice(all, func(a, b int) bool { return sqDist(x, d, i, all[a]) < sqDist(x, d, i, all[b]) })
		for a := 0; a < k; a++ {
			if nbr[i*k+a] != all[a] || math.Abs(dist[i*k+a]-sqDist(x, d, i, all[a])) > 1e-4 {
				t.Fatalf("point %d neighbour %d: %d at %g, want %d at %g", i, a, nbr[i*k+a], dist[i*k+a], all[a], sqDist(x, d, i, all[a]))
			}
		}
	}
}

// exactP is the definition of t-SNE's P with every other point as a
// neighbour: per row, bisection on σ_i (not β, and without the shift
// conditional uses) until the perplexity 2^H matches, then symmetrised.
func exactP(x []float32, n, d int, perp float64) [][]float64 {
	cond := make([][]float64, n)
	for i := 0; i < n; i++ {
		lo, hi := 1e-10, 1e10
		row := make([]float64, n)
		for it := 0; it < 300; it++ {
			sigma := math.Sqrt(lo * hi)
			var sum float64
			for j := 0; j < n; j++ {
				row[j] = 0
				if j != i {
					row[j] = math.Exp(-sqDist(x, d, i, j) / (2 * sigma * sigma))
					sum += row[j]
				}
			}
			var h float64
			for j := range row {
				row[j] /= sum
				if row[j] > 0 {
					h -= row[j] * math.Log2(row[j])
				}
			}
			if math.Pow(2, h) > perp {
				hi = sigma
			} else {
				lo = sigma
			}
		}
		cond[i] = row
	}
	p := make([][]float64, n)
	for i := range p {
		p[i] = make([]float64, n)
		for j := range p[i] {
			p[i][j] = (cond[i][j] + cond[j][i]) / (2 * float64(n))
		}
	}
	return p
}

func TestJointPMatchesDefinition(t *testing.T) {
	n, d, perp := 40, 5, 7.0
	x := randomPoints(n, d, 2)
	nbr, dist := Neighbours(x, n, d, n-1)
	p := JointP(nbr, dist, n, n-1, perp)
	want := exactP(x, n, d, perp)
	var total float64
	for i := 0; i < n; i++ {
		if p.Start[i+1]-p.Start[i] != n-1 {
			t.Fatalf("row %d has %d entries", i, p.Start[i+1]-p.Start[i])
		}
		for a := p.Start[i]; a < p.Start[i+1]; a++ {
			j := p.Col[a]
			total += p.Val[a]
			if math.Abs(p.Val[a]-want[i][j]) > 1e-6*math.Max(want[i][j], 1e-3) {
				t.Fatalf("P[%d][%d] = %g, want %g", i, j, p.Val[a], want[i][j])
			}
		}
	}
	if math.Abs(total-1) > 1e-9 {
		t.Errorf("ΣP = %v, want 1", total)
	}
}

func TestConditionalEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, perp := range []float64{2, 5, 30} {
		dist := make([]float64, 90)
		for i := range dist {
			dist[i] = 50 + 40*rng.Float64() // large distances: exp underflows without the shift
		}
		p := make([]float64, len(dist))
		conditional(dist, p, perp)
		var h float64
		for _, v := range p {
			if v > 0 {
				h -= v * math.Log(v)
			}
		}
		if math.Abs(math.Exp(h)-perp) > 1e-4*perp {
			t.Errorf("perplexity %v: got exp(H) = %v", perp, math.Exp(h))
		}
	}
}

// exactGradient is ∂KL/∂y_i = 4 Σ_j (exag·p_ij − q_ij)(1+d²)⁻¹(y_i − y_j)
// over all pairs, P dense from the sparse form.
func exactGradient(p Sparse, y []float64, n int, exag float64) []float64 {
	dense := make([][]float64, n)
	for i := range dense {
		dense[i] = make([]float64, n)
		for a := p.Start[i]; a < p.Start[i+1]; a++ {
			dense[i][p.Col[a]] = p.Val[a]
		}
	}
	var z float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j {
				dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
				z += 1 / (1 + dx*dx + dy*dy)
			}
		}
	}
	g := make([]float64, 2*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i == j {
				continue
			}
			dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
			w := 1 / (1 + dx*dx + dy*dy)
			m := 4 * (exag*dense[i][j] - w/z) * w
			g[2*i] += m * dx
			g[2*i+1] += m * dy
		}
	}
	return g
}

func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / den)
}

func TestGradientAgainstExact(t *testing.T) {
	n, d := 300, 8
	x := randomPoints(n, d, 4)
	nbr, dist := Neighbours(x, n, d, 30)
	p := JointP(nbr, dist, n, 30, 10)
	rng := rand.New(rand.NewPCG(5, 5))
	y := make([]float64, 2*n)
	for i := range y {
		y[i] = 5 * rng.NormFloat64()
	}
	// Two coincident points exercise the depth limit.
	y[2], y[3] = y[0], y[1]
	want := exactGradient(p, y, n, 12)
	got := make([]float64, 2*n)
	Gradient(p, y, n, 0, 12, got)
	if e := relErr(got, want); e > 1e-10 {
		t.Errorf("θ = 0: relative error %g, want exact", e)
	}
	Gradient(p, y, n, 0.5, 12, got)
	e := relErr(got, want)
	t.Logf("θ = 0.5: relative gradient error %.3g", e)
	if e > 0.05 || e == 0 {
		t.Errorf("θ = 0.5: relative error %g, want (0, 0.05]", e)
	}
}

// TestRunSeparatesBlobs embeds three Gaussian blobs: the map keeps every
// point's 2-D nearest neighbour in its blob, and the Barnes-Hut run ends
// within 5% of the KL divergence of an exact (θ = 0) run.
func TestRunSeparatesBlobs(t *testing.T) {
	const per, d = 80, 20
	n := 3 * per
	rng := rand.New(rand.NewPCG(6, 6))
	x := make([]float32, n*d)
	for i := 0; i < n; i++ {
		for k := 0; k < d; k++ {
			c := 0.0
			if k == i/per {
				c = 8
			}
			x[i*d+k] = float32(c + rng.NormFloat64())
		}
	}
	cfg := Config{Perplexity: 20, Iterations: 400, Seed: 1}
	var klBH, klExact float64
	cfg.Progress = func(_ int, kl float64) { klBH = kl }
	y, err := Run(x, n, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Exact = true
	cfg.Progress = func(_ int, kl float64) { klExact = kl }
	if _, err := Run(x, n, d, cfg); err != nil {
		t.Fatal(err)
	}
	t.Logf("KL: Barnes-Hut %.6f, exact %.6f", klBH, klExact)
	if math.Abs(klBH-klExact) > 0.05*klExact || klExact <= 0 {
		t.Errorf("KL Barnes-Hut %v vs exact %v: more than 5%% apart", klBH, klExact)
	}
	wrong := 0
	for i := 0; i < n; i++ {
		best, bj := math.Inf(1), -1
		for j := 0; j < n; j++ {
			if j == i {
				continue
			}
			dx, dy := y[i][0]-y[j][0], y[i][1]-y[j][1]
			if dd := dx*dx + dy*dy; dd < best {
				best, bj = dd, j
			}
		}
		if bj/per != i/per {
			wrong++
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d points have a 2-D nearest neighbour in another blob", wrong, n)
	}
	if _, err := Run(x[:5*d], 5, d, Config{}); err == nil {
		t.Error("5 points at perplexity 30 were accepted")
	}
}
