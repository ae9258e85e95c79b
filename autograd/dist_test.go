package autograd_test

import (
	"math"
	"slices"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// gatherTwice is an all-gather over two processes that hold the same rows
// x [n, d]: out = [x; x], and its backward the reduce-scatter (sum) of the
// gradient, g[:n] + g[n:].
func gatherTwice(x *autograd.Value) *autograd.Value {
	n, d := x.Shape()[0], x.Shape()[1]
	out := tensor.New(2*n, d)
	copy(out.Data, x.Data.Data)
	copy(out.Data[n*d:], x.Data.Data)
	return autograd.Func(x, out, func(g *tensor.Tensor) *tensor.Tensor {
		gx := tensor.New(n, d)
		for i := range gx.Data {
			gx.Data[i] = g.Data[i] + g.Data[n*d+i]
		}
		return gx
	})
}

func init() {
	gradCases = append(gradCases, gradCase{
		name: "func/gather", op: autograd.OpFunc,
		in: ts(randT(41, 3, 4)),
		f: func(v []*autograd.Value) *autograd.Value {
			return autograd.Exp(gatherTwice(autograd.Scale(v[0], 0.5)))
		},
	})
}

// TestBackwardReady checks that every parameter is reported once, after
// its gradient is final (it equals the gradient after the whole pass),
// and that a parameter used twice is reported after its second use.
func TestBackwardReady(t *testing.T) {
	w1 := autograd.Param(randT(1, 4, 5))
	w2 := autograd.Param(randT(2, 5, 3))
	b := autograd.Param(randT(3, 3))
	x := autograd.Const(randT(4, 6, 4))
	h := autograd.ReLU(autograd.MatMul(x, w1, false, false))                      // [6, 5]
	y := autograd.Add(autograd.MatMul(h, w2, false, false), b)                    // [6, 3]
	y2 := autograd.MatMul(autograd.MatMul(x, w1, false, false), w2, false, false) // w1, w2 used twice
	loss := autograd.Sum(autograd.Mul(autograd.Add(y, y2), y), nil, false)

	var order []*autograd.Value
	atReady := map[*autograd.Value][]float32{}
	autograd.BackwardReady(loss, func(v *autograd.Value) {
		order = append(order, v)
		atReady[v] = slices.Clone(v.Grad.Data)
	})
	if len(order) != 3 {
		t.Fatalf("%d leaves reported, want 3 (w1, w2, b)", len(order))
	}
	if order[len(order)-1] != w1 {
		t.Errorf("w1 (the first layer) was not reported last")
	}
	for _, p := range []*autograd.Value{w1, w2, b} {
		got, ok := atReady[p]
		if !ok {
			t.Fatalf("a parameter was never reported")
		}
		for i, g := range p.Grad.Data {
			if got[i] != g {
				t.Fatalf("gradient changed after the parameter was reported: element %d was %v, final %v", i, got[i], g)
			}
		}
	}
	// The gradients equal those of a plain Backward.
	grads := [][]float32{slices.Clone(w1.Grad.Data), slices.Clone(w2.Grad.Data), slices.Clone(b.Grad.Data)}
	for _, p := range []*autograd.Value{w1, w2, b} {
		p.ZeroGrad()
	}
	h = autograd.ReLU(autograd.MatMul(x, w1, false, false))
	y = autograd.Add(autograd.MatMul(h, w2, false, false), b)
	y2 = autograd.MatMul(autograd.MatMul(x, w1, false, false), w2, false, false)
	autograd.Backward(autograd.Sum(autograd.Mul(autograd.Add(y, y2), y), nil, false))
	for k, p := range []*autograd.Value{w1, w2, b} {
		if !slices.Equal(grads[k], p.Grad.Data) {
			t.Errorf("parameter %d: BackwardReady's gradient differs from Backward's", k)
		}
	}
}

// TestBatchNormSync runs a batch norm on the rows xa of one "process"
// whose Sync adds the sums a second process would contribute from its
// rows xb: the output, the input gradient and the running statistics must
// be those of one batch norm over [xa; xb], and γ's and β's gradients the
// sums over xa's rows alone.
func TestBatchNormSync(t *testing.T) {
	const na, nb, c = 5, 3, 3
	const eps = 1e-5
	xa, xb := randT(7, na, 2, 2, c), posT(11, 0.5, 2.5, nb, 2, 2, c) // the other half sits elsewhere
	dya, dyb := randT(8, na, 2, 2, c), randT(12, nb, 2, 2, c)
	cat := func(a, b *tensor.Tensor) *tensor.Tensor {
		out := tensor.New(na+nb, 2, 2, c)
		copy(out.Data, a.Data)
		copy(out.Data[len(a.Data):], b.Data)
		return out
	}
	gammaT, betaT := randT(9, c), randT(10, c)
	run := func(x, g *tensor.Tensor, sync func([]float64)) (out, dx, dgamma, dbeta []float32, st *autograd.BatchNormState) {
		st = autograd.NewBatchNormState(c)
		st.Sync = sync
		xv := autograd.Param(x.Clone())
		gamma, beta := autograd.Param(gammaT.Clone()), autograd.Param(betaT.Clone())
		y := autograd.BatchNorm(xv, gamma, beta, st, true)
		autograd.BackwardWith(y, g)
		return slices.Clone(y.Data.Data), xv.Grad.Data, gamma.Grad.Data, beta.Grad.Data, st
	}
	// The second process: rows of xb, channel k at xb.Data[r*c+k].
	rows := len(xb.Data) / c
	mean, invstd := make([]float64, c), make([]float64, c)
	calls := 0
	var total float64
	other := func(s []float64) {
		calls++
		switch calls {
		case 1: // forward: count, Σx
			s[0] += float64(rows)
			for r := range rows {
				for k := range c {
					s[1+k] += float64(xb.Data[r*c+k])
				}
			}
			total = s[0]
			for k := range c {
				mean[k] = s[1+k] / s[0]
			}
		case 2: // forward: Σ (x − μ)²
			for r := range rows {
				for k := range c {
					d := float64(xb.Data[r*c+k]) - mean[k]
					s[k] += d * d
				}
			}
			for k := range c {
				invstd[k] = 1 / math.Sqrt(s[k]/total+eps)
			}
		case 3: // backward: Σdy, Σdy·(x − μ) with the global mean
			for r := range rows {
				for k := range c {
					g := float64(dyb.Data[r*c+k])
					s[k] += g
					s[c+k] += g * (float64(xb.Data[r*c+k]) - mean[k])
				}
			}
		}
	}
	out, dx, dg, db, st := run(xa, dya, other)
	wOut, wDx, _, _, wSt := run(cat(xa, xb), cat(dya, dyb), nil)
	_, _, aDg, aDb, _ := run(xa, dya, nil) // γ, β sums over xa with xa's own statistics: not the want
	if calls != 3 {
		t.Fatalf("Sync called %d times, want 3 (forward twice and backward)", calls)
	}
	near := func(what string, got, want []float32) {
		t.Helper()
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
			}
		}
	}
	near("output", out, wOut[:len(out)])
	near("input gradient", dx, wDx[:len(dx)])
	near("running mean", st.RunningMean.Data, wSt.RunningMean.Data)
	near("running var", st.RunningVar.Data, wSt.RunningVar.Data)
	// γ's gradient: Σ over xa's rows of dy·x̂ with the global statistics.
	for k := range c {
		var sg, sb float64
		for r := range len(xa.Data) / c {
			g := float64(dya.Data[r*c+k])
			sb += g
			sg += g * (float64(xa.Data[r*c+k]) - mean[k]) * invstd[k]
		}
		near("gamma gradient", dg[k:k+1], []float32{float32(sg)})
		near("beta gradient", db[k:k+1], []float32{float32(sb)})
		if math.Abs(float64(aDg[k])-sg) < 1e-3 {
			t.Errorf("channel %d: γ's gradient with xa's own statistics equals the synchronised one: the test cannot tell them apart", k)
		}
		_ = aDb
	}
}
