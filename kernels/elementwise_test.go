package kernels

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// ewLens covers the unrolled body, every remainder and a long slice.
var ewLens = []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 1000}

func ewRand(rng *rand.Rand, n int, lo, hi float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = lo + (hi-lo)*rng.Float32()
	}
	return s
}

func TestElementwiseMatchLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const s = float32(-1.375)
	binary := []struct {
		name string
		fn   func(dst, a, b []float32)
		ref  func(a, b float32) float32
	}{
		{"Add", Add, func(a, b float32) float32 { return a + b }},
		{"Sub", Sub, func(a, b float32) float32 { return a - b }},
		{"Mul", Mul, func(a, b float32) float32 { return a * b }},
		{"Div", Div, func(a, b float32) float32 { return a / b }},
		{"AddScalar", func(d, a, _ []float32) { AddScalar(d, a, s) }, func(a, _ float32) float32 { return a + s }},
		{"Scale", func(d, a, _ []float32) { Scale(d, a, s) }, func(a, _ float32) float32 { return s * a }},
		{"DivScalar", func(d, a, _ []float32) { DivScalar(d, a, s) }, func(a, _ float32) float32 { return a / s }},
		{"ScalarSub", func(d, _, b []float32) { ScalarSub(d, s, b) }, func(_, b float32) float32 { return s - b }},
		{"ScalarDiv", func(d, _, b []float32) { ScalarDiv(d, s, b) }, func(_, b float32) float32 { return s / b }},
		{"ReLU", func(d, a, _ []float32) { ReLU(d, a) }, func(a, _ float32) float32 { return max(a, 0) }},
		{"Exp", func(d, a, _ []float32) { Exp(d, a) }, func(a, _ float32) float32 { return Exp32(a) }},
	}
	acc := []struct {
		name string
		fn   func(dst, a, b []float32)
		ref  func(d, a, b float32) float32
	}{
		{"Axpy", func(d, a, _ []float32) { Axpy(d, s, a) }, func(d, a, _ float32) float32 { return d + s*a }},
		{"Axpy1", func(d, a, _ []float32) { Axpy(d, 1, a) }, func(d, a, _ float32) float32 { return d + a }},
		{"MulAcc", MulAcc, func(d, a, b float32) float32 { return d + a*b }},
		{"ReLUGrad", ReLUGrad, func(d, g, y float32) float32 {
			if y > 0 {
				return d + g
			}
			return d
		}},
	}
	for _, n := range ewLens {
		a, b := ewRand(rng, n, -2, 2), ewRand(rng, n, 0.5, 2)
		for _, c := range binary {
			dst := make([]float32, n)
			c.fn(dst, a, b)
			for i := range dst {
				if want := c.ref(a[i], b[i]); dst[i] != want {
					t.Fatalf("%s n=%d: dst[%d] = %v, want %v", c.name, n, i, dst[i], want)
				}
			}
			// In place: dst aliases a.
			in := append([]float32(nil), a...)
			c.fn(in, in, b)
			for i := range in {
				if in[i] != dst[i] {
					t.Fatalf("%s n=%d in place: [%d] = %v, want %v", c.name, n, i, in[i], dst[i])
				}
			}
		}
		// y: a ReLU output with zeros, +0 and -0 among the values.
		y := ewRand(rng, n, -2, 2)
		for i := range y {
			switch {
			case y[i] < 0 && i%2 == 0:
				y[i] = 0
			case y[i] < 0:
				y[i] = float32(math.Copysign(0, -1))
			}
		}
		for _, c := range acc {
			d0 := ewRand(rng, n, -1, 1)
			dst := append([]float32(nil), d0...)
			bb := b
			if c.name == "ReLUGrad" {
				bb = y
			}
			c.fn(dst, a, bb)
			for i := range dst {
				if want := c.ref(d0[i], a[i], bb[i]); dst[i] != want {
					t.Fatalf("%s n=%d: dst[%d] = %v, want %v", c.name, n, i, dst[i], want)
				}
			}
		}
		var sum, dot, sumExp float64
		m := float32(math.Inf(-1))
		for i := range a {
			sum += float64(a[i])
			dot += float64(a[i]) * float64(b[i])
			sumExp += float64(Exp32(a[i] - 0.5))
			m = max(m, a[i])
		}
		if got := Sum(a); math.Abs(float64(got)-sum) > 1e-6*(1+math.Abs(sum)) {
			t.Errorf("Sum n=%d = %v, want %v", n, got, sum)
		}
		if got := Dot(a, b); math.Abs(float64(got)-dot) > 1e-6*(1+math.Abs(dot)) {
			t.Errorf("Dot n=%d = %v, want %v", n, got, dot)
		}
		if got := Max(a); got != m {
			t.Errorf("Max n=%d = %v, want %v", n, got, m)
		}
		e := make([]float32, n)
		got := ExpShift(e, a, 0.5)
		if math.Abs(float64(got)-sumExp) > 1e-6*(1+sumExp) || math.Abs(float64(SumExpShift(a, 0.5))-sumExp) > 1e-6*(1+sumExp) {
			t.Errorf("ExpShift / SumExpShift n=%d = %v / %v, want %v", n, got, SumExpShift(a, 0.5), sumExp)
		}
		for i := range e {
			if e[i] != Exp32(a[i]-0.5) {
				t.Fatalf("ExpShift n=%d: [%d] = %v, want %v", n, i, e[i], Exp32(a[i]-0.5))
			}
		}
	}
	if m := Max([]float32{1, float32(math.NaN()), 2}); m == m {
		t.Errorf("Max with a NaN = %v, want NaN", m)
	}
}

// ulpDiff returns the distance in units in the last place between two
// finite positive float32 values.
func ulpDiff(a, b float32) int64 {
	d := int64(math.Float32bits(a)) - int64(math.Float32bits(b))
	if d < 0 {
		d = -d
	}
	return d
}

// TestExp32Accuracy sweeps the whole normal range and compares with
// math.Exp rounded to float32.
func TestExp32Accuracy(t *testing.T) {
	const lo, hi = -87.33, 88.72
	const steps = 1 << 20
	xs := make([]float32, steps+1)
	for i := range xs {
		xs[i] = float32(lo + (hi-lo)*float64(i)/steps)
	}
	vec := make([]float32, len(xs))
	Exp(vec, xs) // the kernel's own loop body
	var worst, worstVec int64
	var at, atVec float32
	for i, x := range xs {
		want := float32(math.Exp(float64(x)))
		if d := ulpDiff(Exp32(x), want); d > worst {
			worst, at = d, x
		}
		if d := ulpDiff(vec[i], want); d > worstVec {
			worstVec, atVec = d, x
		}
	}
	t.Logf("Exp32: worst error %d ulp at x = %v; Exp: %d ulp at x = %v", worst, at, worstVec, atVec)
	if worst > 1 || worstVec > 1 {
		t.Errorf("Exp32 off by %d ulp at x = %v, Exp by %d ulp at x = %v; want ≤ 1", worst, at, worstVec, atVec)
	}
	inf := float32(math.Inf(1))
	for _, c := range []struct{ x, want float32 }{
		{0, 1}, {-200, 0}, {float32(math.Inf(-1)), 0}, {89, inf}, {inf, inf}, {88.72283, 3.4028e38},
	} {
		got := Exp32(c.x)
		if c.want == 3.4028e38 {
			if math.IsInf(float64(got), 0) || got < 3.4e38 {
				t.Errorf("Exp32(%v) = %v, want the largest finite float32 region", c.x, got)
			}
			continue
		}
		if got != c.want {
			t.Errorf("Exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if v := Exp32(float32(math.NaN())); v == v {
		t.Errorf("Exp32(NaN) = %v", v)
	}
}

func TestElementwisePanicsOnLength(t *testing.T) {
	defer func() {
		if msg, _ := recover().(string); !strings.Contains(msg, "kernels.Add: slice lengths 3 and 2 differ") {
			t.Fatalf("panic %q", msg)
		}
	}()
	Add(make([]float32, 3), make([]float32, 3), make([]float32, 2))
}

func BenchmarkElementwise(b *testing.B) {
	const n = 1 << 16
	rng := rand.New(rand.NewPCG(3, 4))
	x, y, d := ewRand(rng, n, -4, 4), ewRand(rng, n, -4, 4), make([]float32, n)
	for _, c := range []struct {
		name string
		fn   func()
	}{
		{"Add", func() { Add(d, x, y) }},
		{"Axpy", func() { Axpy(d, 0.5, x) }},
		{"Sum", func() { Sum(x) }},
		{"Exp", func() { Exp(d, x) }},
		{"MathExp", func() {
			for i, v := range x {
				d[i] = float32(math.Exp(float64(v)))
			}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(4 * n)
			for b.Loop() {
				c.fn()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
		})
	}
}
