package tsne

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
)

// Config configures Run. Zero fields take the defaults noted.
type Config struct {
	Perplexity        float64 // 30
	Iterations        int     // 1000
	Theta             float64 // Barnes-Hut opening angle, 0.5
	Exact             bool    // compute the repulsion over every pair (O(N²) per iteration)
	LearningRate      float64 // max(N/12, 50)
	Exaggeration      float64 // 12, for the first ExaggerationIters iterations
	ExaggerationIters int     // 250
	Seed              uint64
	// Progress, when set, is called every 50 iterations with the
	// iteration and KL(P‖Q) (computed exactly for N ≤ 5000, else
	// estimated on the Barnes-Hut normalisation).
	Progress func(iter int, kl float64)
}

func (c *Config) defaults(n int) {
	if c.Perplexity == 0 {
		c.Perplexity = 30
	}
	if c.Iterations == 0 {
		c.Iterations = 1000
	}
	if c.Theta == 0 {
		c.Theta = 0.5
	}
	if c.LearningRate == 0 {
		c.LearningRate = math.Max(float64(n)/12, 50)
	}
	if c.Exaggeration == 0 {
		c.Exaggeration = 12
	}
	if c.ExaggerationIters == 0 {
		c.ExaggerationIters = 250
	}
}

// Sparse is a symmetric sparse matrix in compressed rows: the non-zeros
// of row i are Col[Start[i]:Start[i+1]] with values Val.
type Sparse struct {
	Start []int
	Col   []int
	Val   []float64
}

// Run embeds the n rows of x (n×d, row-major) in 2-D and returns the
// points as n (x, y) pairs.
func Run(x []float32, n, d int, cfg Config) ([][2]float64, error) {
	if len(x) != n*d || n < 2 || d < 1 {
		return nil, fmt.Errorf("tsne: %d values for %d points of dimension %d (need at least 2 points)", len(x), n, d)
	}
	cfg.defaults(n)
	if cfg.Perplexity <= 0 || 3*cfg.Perplexity >= float64(n) {
		return nil, fmt.Errorf("tsne: perplexity %g needs more than %d points (3·perplexity neighbours each)", cfg.Perplexity, int(3*cfg.Perplexity))
	}
	k := min(n-1, int(3*cfg.Perplexity))
	nbr, dist := Neighbours(x, n, d, k)
	p := JointP(nbr, dist, n, k, cfg.Perplexity)
	return Optimize(p, n, cfg), nil
}

// Neighbours returns, for each of the n rows of x, the k nearest other
// rows (squared Euclidean distance, nearest first) as n×k indices and
// distances, computed exactly from |a|² + |b|² − 2a·b in blocks.
func Neighbours(x []float32, n, d, k int) ([]int, []float64) {
	sq := make([]float64, n)
	for i := 0; i < n; i++ {
		var s float64
		for _, v := range x[i*d : (i+1)*d] {
			s += float64(v) * float64(v)
		}
		sq[i] = s
	}
	nbr := make([]int, n*k)
	dist := make([]float64, n*k)
	block := max(1, min(n, (1<<22)/n))
	dots := make([]float32, block*n)
	for lo := 0; lo < n; lo += block {
		hi := min(lo+block, n)
		kernels.Sgemm(false, true, hi-lo, n, d, 1, x[lo*d:hi*d], d, x, d, 0, dots, n)
		parallel.For(hi-lo, 1, func(r0, r1 int) {
			type cand struct {
				j int
				d float64
			}
			best := make([]cand, 0, k+1)
			for r := r0; r < r1; r++ {
				i := lo + r
				best = best[:0]
				row := dots[r*n : (r+1)*n]
				for j := 0; j < n; j++ {
					if j == i {
						continue
					}
					dd := math.Max(sq[i]+sq[j]-2*float64(row[j]), 0)
					if len(best) == k && dd >= best[k-1].d {
						continue
					}
					at := sort.Search(len(best), func(a int) bool { return best[a].d > dd })
					best = append(best, cand{})
					copy(best[at+1:], best[at:])
					best[at] = cand{j, dd}
					if len(best) > k {
						best = best[:k]
					}
				}
				for a, c := range best {
					nbr[i*k+a], dist[i*k+a] = c.j, c.d
				}
			}
		})
	}
	return nbr, dist
}

// conditional fills p (len(dist)) with exp(−β·dist)/Σ for the β whose
// distribution has entropy log(perplexity), found by bisection on β
// (distances shifted by their minimum for stability), and returns β.
func conditional(dist, p []float64, perplexity float64) float64 {
	target := math.Log(perplexity)
	beta, lo, hi := 1.0, 0.0, math.Inf(1)
	dmin := math.Inf(1)
	for _, v := range dist {
		dmin = math.Min(dmin, v)
	}
	for it := 0; it < 200; it++ {
		var sum, sdp float64
		for j, v := range dist {
			p[j] = math.Exp(-beta * (v - dmin))
			sum += p[j]
			sdp += (v - dmin) * p[j]
		}
		// H = log Σ + β·Σ d·p / Σ (natural log)
		h := math.Log(sum) + beta*sdp/sum
		for j := range p {
			p[j] /= sum
		}
		diff := h - target
		if math.Abs(diff) < 1e-6 {
			break
		}
		if diff > 0 { // too flat: sharpen
			lo = beta
			if math.IsInf(hi, 1) {
				beta *= 2
			} else {
				beta = (beta + hi) / 2
			}
		} else {
			hi = beta
			beta = (beta + lo) / 2
		}
	}
	return beta
}

// JointP builds the symmetric P = (p_j|i + p_i|j) / 2n from the n×k
// neighbour lists.
func JointP(nbr []int, dist []float64, n, k int, perplexity float64) Sparse {
	cond := make([]float64, n*k)
	parallel.For(n, 16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			conditional(dist[i*k:(i+1)*k], cond[i*k:(i+1)*k], perplexity)
		}
	})
	// Symmetrise through a map of (i, j) → value per row.
	rows := make([]map[int]float64, n)
	for i := range rows {
		rows[i] = make(map[int]float64, k)
	}
	for i := 0; i < n; i++ {
		for a := 0; a < k; a++ {
			j, v := nbr[i*k+a], cond[i*k+a]
			rows[i][j] += v
			rows[j][i] += v
		}
	}
	s := Sparse{Start: make([]int, n+1)}
	for i, r := range rows {
		cols := make([]int, 0, len(r))
		for j := range r {
			cols = append(cols, j)
		}
		sort.Ints(cols)
		for _, j := range cols {
			s.Col = append(s.Col, j)
			s.Val = append(s.Val, r[j]/(2*float64(n)))
		}
		s.Start[i+1] = len(s.Col)
	}
	return s
}

// Optimize runs gradient descent on KL(P‖Q) from a seeded N(0, 10⁻⁴)
// start and returns the 2-D points.
func Optimize(p Sparse, n int, cfg Config) [][2]float64 {
	cfg.defaults(n)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x75e))
	y := make([]float64, 2*n)
	for i := range y {
		y[i] = 1e-2 * rng.NormFloat64()
	}
	grad := make([]float64, 2*n)
	update := make([]float64, 2*n)
	gains := make([]float64, 2*n)
	for i := range gains {
		gains[i] = 1
	}
	for it := 0; it < cfg.Iterations; it++ {
		exag, mom := 1.0, 0.8
		if it < cfg.ExaggerationIters {
			exag, mom = cfg.Exaggeration, 0.5
		}
		theta := cfg.Theta
		if cfg.Exact {
			theta = 0
		}
		z := Gradient(p, y, n, theta, exag, grad)
		for i := range y {
			if (grad[i] > 0) != (update[i] > 0) {
				gains[i] += 0.2
			} else {
				gains[i] *= 0.8
			}
			gains[i] = math.Max(gains[i], 0.01)
			update[i] = mom*update[i] - cfg.LearningRate*gains[i]*grad[i]
			y[i] += update[i]
		}
		// Keep the map centred.
		var mx, my float64
		for i := 0; i < n; i++ {
			mx += y[2*i]
			my += y[2*i+1]
		}
		mx, my = mx/float64(n), my/float64(n)
		for i := 0; i < n; i++ {
			y[2*i] -= mx
			y[2*i+1] -= my
		}
		if cfg.Progress != nil && (it+1)%50 == 0 {
			cfg.Progress(it+1, KL(p, y, n, z))
		}
	}
	out := make([][2]float64, n)
	for i := range out {
		out[i] = [2]float64{y[2*i], y[2*i+1]}
	}
	return out
}

// Gradient writes ∂KL/∂y (with P scaled by exag) into grad and returns
// the normalisation Z = Σ_{i≠j} (1 + |y_i − y_j|²)⁻¹ it used: the
// attraction exactly over P's non-zeros, the repulsion through a quadtree
// with opening angle theta (theta 0: every pair).
func Gradient(p Sparse, y []float64, n int, theta, exag float64, grad []float64) float64 {
	tree := buildTree(y, n)
	rep := make([]float64, 2*n)
	zs := make([]float64, n)
	parallel.For(n, 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			fx, fy, z := tree.repulsion(i, y[2*i], y[2*i+1], theta)
			rep[2*i], rep[2*i+1], zs[i] = fx, fy, z
		}
	})
	var z float64
	for _, v := range zs {
		z += v
	}
	parallel.For(n, 64, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var ax, ay float64
			yi0, yi1 := y[2*i], y[2*i+1]
			for a := p.Start[i]; a < p.Start[i+1]; a++ {
				j := p.Col[a]
				dx, dy := yi0-y[2*j], yi1-y[2*j+1]
				q := 1 / (1 + dx*dx + dy*dy)
				w := exag * p.Val[a] * q
				ax += w * dx
				ay += w * dy
			}
			grad[2*i] = 4 * (ax - rep[2*i]/z)
			grad[2*i+1] = 4 * (ay - rep[2*i+1]/z)
		}
	})
	return z
}

// KL is Σ p_ij log(p_ij / q_ij) over P's non-zeros, with q_ij =
// (1 + |y_i − y_j|²)⁻¹ / z.
func KL(p Sparse, y []float64, n int, z float64) float64 {
	var kl float64
	for i := 0; i < n; i++ {
		for a := p.Start[i]; a < p.Start[i+1]; a++ {
			j := p.Col[a]
			dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
			q := 1 / (1 + dx*dx + dy*dy) / z
			if v := p.Val[a]; v > 0 {
				kl += v * math.Log(v/math.Max(q, 1e-300))
			}
		}
	}
	return kl
}
