package autograd_test

// The gradcheck table uses tiny tensors, which stay on one goroutine. The
// tests here use tensors larger than the parallel grain (so rows are split
// into blocks and spread over workers) and compare forward and backward
// with straightforward float64 loops.

import (
	"fmt"
	"math"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// withWorkers runs fn with parallel.For using n workers.
func withWorkers(n int, fn func()) {
	old := parallel.SetWorkers(n)
	defer parallel.SetWorkers(old)
	fn()
}

// unravel writes the multi-index of flat index i in shape into idx.
func unravel(i int, shape, idx []int) {
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
}

// bIndex returns the flat index into a tensor of shape s read at the
// multi-index idx of its broadcast shape.
func bIndex(idx, s []int) int {
	off := 0
	for d := range s {
		k := idx[len(idx)-len(s)+d]
		if s[d] == 1 {
			k = 0
		}
		off = off*s[d] + k
	}
	return off
}

// within fails unless |got-want| ≤ tol·max(1, |want|) for every element.
func within(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, len(got), len(want))
	}
	for i, w := range want {
		if d := math.Abs(float64(got[i]) - w); !(d <= tol*math.Max(1, math.Abs(w))) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], w)
		}
	}
}

func TestBroadcastLarge(t *testing.T) {
	type op struct {
		name string
		fn   func(a, b *autograd.Value) *autograd.Value
		f    func(a, b float64) float64
		da   func(a, b float64) float64
		db   func(a, b float64) float64
	}
	ops := []op{
		{"add", autograd.Add, func(a, b float64) float64 { return a + b }, func(a, b float64) float64 { return 1 }, func(a, b float64) float64 { return 1 }},
		{"sub", autograd.Sub, func(a, b float64) float64 { return a - b }, func(a, b float64) float64 { return 1 }, func(a, b float64) float64 { return -1 }},
		{"mul", autograd.Mul, func(a, b float64) float64 { return a * b }, func(a, b float64) float64 { return b }, func(a, b float64) float64 { return a }},
		{"div", autograd.Div, func(a, b float64) float64 { return a / b }, func(a, b float64) float64 { return 1 / b }, func(a, b float64) float64 { return -a / (b * b) }},
	}
	shapes := []struct {
		tag    string
		sa, sb []int
	}{
		{"same", []int{70001}, []int{70001}},
		{"bias", []int{300, 257}, []int{257}},
		{"row", []int{300, 257}, []int{300, 1}},
		{"left", []int{257}, []int{300, 257}},
		{"scalar", []int{1}, []int{300, 257}},
		{"general", []int{3, 1, 30000}, []int{5, 1}},
	}
	withWorkers(4, func() {
		for _, sh := range shapes {
			for _, o := range ops {
				name := o.name + "/" + sh.tag
				a := autograd.Param(randT(seedOf(name+"a"), sh.sa...))
				b := autograd.Param(posT(seedOf(name+"b"), 0.5, 2, sh.sb...))
				y := o.fn(a, b)
				os := y.Shape()
				g := randT(seedOf(name+"g"), os...)
				autograd.BackwardWith(y, g)

				n := y.Data.Numel()
				want := make([]float64, n)
				da := make([]float64, a.Data.Numel())
				db := make([]float64, b.Data.Numel())
				idx := make([]int, len(os))
				for i := 0; i < n; i++ {
					unravel(i, os, idx)
					ia, ib := bIndex(idx, sh.sa), bIndex(idx, sh.sb)
					x, z := float64(a.Data.Data[ia]), float64(b.Data.Data[ib])
					want[i] = o.f(x, z)
					da[ia] += float64(g.Data[i]) * o.da(x, z)
					db[ib] += float64(g.Data[i]) * o.db(x, z)
				}
				within(t, name+" forward", y.Data.Data, want, 1e-6)
				// The gradient of an operand broadcast over leading axes
				// adds up 300 float32 rows (~1e-5 relative error).
				within(t, name+" da", a.Grad.Data, da, 5e-5)
				within(t, name+" db", b.Grad.Data, db, 5e-5)
			}
		}
	})
}

func TestReduceLarge(t *testing.T) {
	shape := []int{40, 50, 40}
	withWorkers(4, func() {
		for _, c := range []struct {
			tag  string
			axes []int
		}{{"all", nil}, {"0", []int{0}}, {"1", []int{1}}, {"2", []int{2}}, {"0,2", []int{0, 2}}} {
			for _, mean := range []bool{false, true} {
				name := "sum/" + c.tag
				fn := autograd.Sum
				if mean {
					name, fn = "mean/"+c.tag, autograd.Mean
				}
				x := autograd.Param(randT(seedOf(name), shape...))
				y := fn(x, c.axes, true)
				ks := y.Shape()
				g := randT(seedOf(name+"g"), ks...)
				autograd.BackwardWith(y, g)
				want := make([]float64, y.Data.Numel())
				idx := make([]int, 3)
				count := float64(x.Data.Numel() / y.Data.Numel())
				for i, v := range x.Data.Data {
					unravel(i, shape, idx)
					want[bIndex(idx, ks)] += float64(v)
				}
				dx := make([]float64, x.Data.Numel())
				for i := range dx {
					unravel(i, shape, idx)
					dx[i] = float64(g.Data[bIndex(idx, ks)])
					if mean {
						dx[i] /= count
					}
				}
				if mean {
					for i := range want {
						want[i] /= count
					}
				}
				within(t, name+" forward", y.Data.Data, want, 1e-4)
				within(t, name+" backward", x.Grad.Data, dx, 1e-6)
			}
		}
	})
}

func TestLastAxisLarge(t *testing.T) {
	withWorkers(4, func() {
		const rows, c = 3, 70000
		x := randT(60, rows, c)
		for i := range x.Data {
			x.Data[i] *= 4
		}
		g := randT(61, rows, c)
		// float64 references per row.
		soft := make([]float64, rows*c)
		logsoft := make([]float64, rows*c)
		lse := make([]float64, rows)
		for r := 0; r < rows; r++ {
			m := math.Inf(-1)
			for _, v := range x.Data[r*c : (r+1)*c] {
				m = math.Max(m, float64(v))
			}
			s := 0.0
			for _, v := range x.Data[r*c : (r+1)*c] {
				s += math.Exp(float64(v) - m)
			}
			lse[r] = m + math.Log(s)
			for j := r * c; j < (r+1)*c; j++ {
				logsoft[j] = float64(x.Data[j]) - lse[r]
				soft[j] = math.Exp(logsoft[j])
			}
		}
		dsoft := make([]float64, rows*c)
		dlog := make([]float64, rows*c)
		for r := 0; r < rows; r++ {
			dot, sg := 0.0, 0.0
			for j := r * c; j < (r+1)*c; j++ {
				dot += float64(g.Data[j]) * soft[j]
				sg += float64(g.Data[j])
			}
			for j := r * c; j < (r+1)*c; j++ {
				dsoft[j] = soft[j] * (float64(g.Data[j]) - dot)
				dlog[j] = float64(g.Data[j]) - soft[j]*sg
			}
		}

		xs := autograd.Param(x)
		y := autograd.Softmax(xs)
		within(t, "softmax forward", y.Data.Data, soft, 1e-6)
		autograd.BackwardWith(y, g)
		within(t, "softmax backward", xs.Grad.Data, dsoft, 1e-6)

		xl := autograd.Param(x)
		y = autograd.LogSoftmax(xl)
		within(t, "log_softmax forward", y.Data.Data, logsoft, 2e-6)
		autograd.BackwardWith(y, g)
		within(t, "log_softmax backward", xl.Grad.Data, dlog, 1e-4)

		targets := []int{5, 69999, 31337}
		xc := autograd.Param(x)
		loss := autograd.CrossEntropy(xc, targets)
		want := 0.0
		for r, k := range targets {
			want += (lse[r] - float64(x.Data[r*c+k])) / rows
		}
		within(t, "cross_entropy forward", loss.Data.Data, []float64{want}, 1e-5)
		autograd.Backward(loss)
		dce := make([]float64, rows*c)
		for r, k := range targets {
			for j := r * c; j < (r+1)*c; j++ {
				dce[j] = soft[j] / rows
			}
			dce[r*c+k] -= 1.0 / rows
		}
		within(t, "cross_entropy backward", xc.Grad.Data, dce, 1e-6)

		xn := autograd.Param(x)
		y = autograd.L2Normalize(xn, 1e-12)
		norm := make([]float64, rows)
		for r := 0; r < rows; r++ {
			for _, v := range x.Data[r*c : (r+1)*c] {
				norm[r] += float64(v) * float64(v)
			}
			norm[r] = math.Sqrt(norm[r])
		}
		yn := make([]float64, rows*c)
		dn := make([]float64, rows*c)
		for r := 0; r < rows; r++ {
			dot := 0.0
			for j := r * c; j < (r+1)*c; j++ {
				yn[j] = float64(x.Data[j]) / norm[r]
				dot += yn[j] * float64(g.Data[j])
			}
			for j := r * c; j < (r+1)*c; j++ {
				dn[j] = (float64(g.Data[j]) - yn[j]*dot) / norm[r]
			}
		}
		within(t, "l2normalize forward", y.Data.Data, yn, 1e-6)
		autograd.BackwardWith(y, g)
		within(t, "l2normalize backward", xn.Grad.Data, dn, 1e-6)
	})
}

func TestUnaryLarge(t *testing.T) {
	withWorkers(4, func() {
		x := randT(70, 70001)
		p := posT(71, 0.1, 5, 70001)
		g := randT(72, 70001)
		for _, c := range []struct {
			name string
			in   *tensor.Tensor
			fn   func(*autograd.Value) *autograd.Value
			f, d func(float64) float64
		}{
			{"exp", x, autograd.Exp, math.Exp, math.Exp},
			{"log", p, autograd.Log, math.Log, func(v float64) float64 { return 1 / v }},
			{"sqrt", p, autograd.Sqrt, math.Sqrt, func(v float64) float64 { return 0.5 / math.Sqrt(v) }},
			{"pow1.5", p, func(a *autograd.Value) *autograd.Value { return autograd.Pow(a, 1.5) },
				func(v float64) float64 { return math.Pow(v, 1.5) }, func(v float64) float64 { return 1.5 * math.Sqrt(v) }},
			{"relu", x, autograd.ReLU, func(v float64) float64 { return math.Max(v, 0) },
				func(v float64) float64 { return map[bool]float64{true: 1, false: 0}[v > 0] }},
			{"neg", x, autograd.Neg, func(v float64) float64 { return -v }, func(float64) float64 { return -1 }},
			{"scale", x, func(a *autograd.Value) *autograd.Value { return autograd.Scale(a, 0.3) },
				func(v float64) float64 { return float64(float32(0.3)) * v }, func(float64) float64 { return float64(float32(0.3)) }},
		} {
			v := autograd.Param(c.in)
			y := c.fn(v)
			want := make([]float64, len(c.in.Data))
			dwant := make([]float64, len(c.in.Data))
			for i, e := range c.in.Data {
				want[i] = c.f(float64(e))
				dwant[i] = float64(g.Data[i]) * c.d(float64(e))
			}
			within(t, c.name+" forward", y.Data.Data, want, 1e-6)
			autograd.BackwardWith(y, g)
			within(t, c.name+" backward", v.Grad.Data, dwant, 1e-6)
		}
	})
}

func TestMovesLarge(t *testing.T) {
	withWorkers(4, func() {
		shape := []int{20, 30, 40, 5}
		// NHWC -> NCHW (the batched-transpose path) and a general one.
		for _, perm := range [][]int{{0, 3, 1, 2}, {2, 0, 3, 1}} {
			x := autograd.Param(randT(80, shape...))
			y := autograd.Permute(x, perm...)
			g := randT(81, y.Shape()...)
			autograd.BackwardWith(y, g)
			want := make([]float64, x.Data.Numel())
			dx := make([]float64, x.Data.Numel())
			oi, xi := make([]int, 4), make([]int, 4)
			for i := range want {
				unravel(i, y.Shape(), oi)
				for d, p := range perm {
					xi[p] = oi[d]
				}
				j := bIndex(xi, shape)
				want[i] = float64(x.Data.Data[j])
				dx[j] = float64(g.Data[i])
			}
			within(t, fmt.Sprintf("permute %v forward", perm), y.Data.Data, want, 0)
			within(t, fmt.Sprintf("permute %v backward", perm), x.Grad.Data, dx, 0)
		}

		const m, n = 300, 257
		a := autograd.Param(randT(82, m, n))
		tr := autograd.Transpose(a)
		gt := randT(83, n, m)
		autograd.BackwardWith(tr, gt)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				if tr.Data.Data[j*m+i] != a.Data.Data[i*n+j] || a.Grad.Data[i*n+j] != gt.Data[j*m+i] {
					t.Fatalf("transpose wrong at (%d, %d)", i, j)
				}
			}
		}

		idx := make([]int, 500)
		for i := range idx {
			idx[i] = (i * 7) % m
		}
		s := autograd.IndexSelect(a, idx)
		gs := randT(84, len(idx), n)
		a.ZeroGrad()
		autograd.BackwardWith(s, gs)
		da := make([]float64, m*n)
		for i, k := range idx {
			for j := 0; j < n; j++ {
				if s.Data.Data[i*n+j] != a.Data.Data[k*n+j] {
					t.Fatalf("index select wrong at row %d", i)
				}
				da[k*n+j] += float64(gs.Data[i*n+j])
			}
		}
		within(t, "index select backward", a.Grad.Data, da, 1e-6)

		src := autograd.Param(randT(85, len(idx), n))
		sc := autograd.ScatterRows(m, idx, src)
		gsc := randT(86, m, n)
		autograd.BackwardWith(sc, gsc)
		sum := make([]float64, m*n)
		for i, k := range idx {
			for j := 0; j < n; j++ {
				sum[k*n+j] += float64(src.Data.Data[i*n+j])
				if src.Grad.Data[i*n+j] != gsc.Data[k*n+j] {
					t.Fatalf("scatter backward wrong at row %d", i)
				}
			}
		}
		within(t, "scatter forward", sc.Data.Data, sum, 1e-6)
	})
}
