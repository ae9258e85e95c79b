package nn

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

func newRNG() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func names(es []Entry) string {
	var s []string
	for _, e := range es {
		s = append(s, e.Name)
	}
	return strings.Join(s, " ")
}

func TestStateOrderAndNames(t *testing.T) {
	m := NewSequential(NewConv2d(3, 4, 3, 1, 1, true, newRNG()), NewBatchNorm(4), ReLU{},
		NewNamedSequential(Child{"fc", NewLinear(4, 2, false, newRNG())}))
	want := "0.weight 0.bias 1.weight 1.bias 1.running_mean 1.running_var 1.num_batches_tracked 3.fc.weight"
	if got := names(State(m)); got != want {
		t.Errorf("State names\n got %s\nwant %s", got, want)
	}
	var ps []string
	for _, p := range Params(m) {
		ps = append(ps, p.Name)
	}
	if got := strings.Join(ps, " "); got != "0.weight 0.bias 1.weight 1.bias 3.fc.weight" {
		t.Errorf("Params names: %s", got)
	}
	if n := NumParams(m); n != 4*3*9+4+4+4+8 {
		t.Errorf("NumParams %d", n)
	}
	// An empty child name adds no prefix (an encoder inside a method).
	outer := NewNamedSequential(Child{"", NewLinear(2, 2, true, newRNG())}, Child{"head", NewLinear(2, 1, true, newRNG())})
	if got := names(State(outer)); got != "weight bias head.weight head.bias" {
		t.Errorf("empty-name child: %s", got)
	}
	// State shares memory with the module.
	st := State(m)
	st[0].F32.Data[0] = 42
	if m.At(0).(*Conv2d).Weight.Data.Data[0] != 42 {
		t.Error("State does not alias the parameters")
	}
	*st[6].I64 = 7
	if m.At(1).(*BatchNorm).State.NumBatchesTracked != 7 {
		t.Error("num_batches_tracked not aliased")
	}
}

func TestHeads(t *testing.T) {
	cases := []struct {
		name   string
		m      Module
		names  string
		params int
	}{
		{"linear", LinearProjection(2048, 128, newRNG()), "0.weight 0.bias", 2048*128 + 128},
		{"simclr", SimCLRProjection(512, 2048, 128, false, newRNG()), "0.weight 0.bias 2.weight 2.bias", 512*2048 + 2048 + 2048*128 + 128},
		{"simclr-bn", SimCLRProjection(512, 2048, 128, true, newRNG()),
			"0.weight 1.weight 1.bias 1.running_mean 1.running_var 1.num_batches_tracked 3.weight 3.bias", 512*2048 + 2*2048 + 2048*128 + 128},
		{"mocov2", MoCoV2Projection(2048, 2048, 128, newRNG()), "0.weight 0.bias 2.weight 2.bias", 2048*2048 + 2048 + 2048*128 + 128},
		{"swav", SwAVProjection(2048, 2048, 128, newRNG()),
			"0.weight 1.weight 1.bias 1.running_mean 1.running_var 1.num_batches_tracked 3.weight 3.bias", 2048*2048 + 2*2048 + 2048*128 + 128},
		{"mlp-outbn", MLP(MLPSpec{Dims: []int{8, 4}, OutputBN: true}, newRNG()),
			"0.weight 1.weight 1.bias 1.running_mean 1.running_var 1.num_batches_tracked", 8*4 + 8},
		{"prototypes", NewPrototypes(128, 3000, newRNG()), "weight", 128 * 3000},
	}
	for _, c := range cases {
		if got := names(State(c.m)); got != c.names {
			t.Errorf("%s: names %s, want %s", c.name, got, c.names)
		}
		if got := NumParams(c.m); got != c.params {
			t.Errorf("%s: %d parameters, want %d", c.name, got, c.params)
		}
	}
}

func TestPrototypesNormalize(t *testing.T) {
	p := NewPrototypes(5, 7, newRNG())
	w := p.Weight.Data
	for i := range w.Data {
		w.Data[i] *= float32(i%3 + 1)
	}
	p.NormalizePrototypes()
	for k := 0; k < 7; k++ {
		var ss float64
		for _, x := range w.Data[k*5 : (k+1)*5] {
			ss += float64(x) * float64(x)
		}
		if math.Abs(ss-1) > 1e-6 {
			t.Errorf("prototype %d has squared norm %v", k, ss)
		}
	}
	z := autograd.Const(tensor.FromSlice([]float32{1, 0, 0, 0, 0}, 1, 5))
	out := p.Forward(z)
	if s := out.Shape(); s[0] != 1 || s[1] != 7 || out.Data.Data[3] != w.Data[15] {
		t.Errorf("Forward: %v, score %v want %v", s, out.Data.Data[3], w.Data[15])
	}
}

func TestInitRanges(t *testing.T) {
	l := NewLinear(100, 300, true, newRNG())
	bound := float32(1 / math.Sqrt(100))
	var ss float64
	for _, x := range l.Weight.Data.Data {
		if x < -bound || x > bound {
			t.Fatalf("linear weight %v outside ±%v", x, bound)
		}
		ss += float64(x) * float64(x)
	}
	// U(-b, b) has variance b²/3.
	if v, want := ss/30000, float64(bound*bound)/3; math.Abs(v-want) > 0.05*want {
		t.Errorf("linear weight variance %.4g, want %.4g", v, want)
	}
	for _, x := range l.Bias.Data.Data {
		if x < -bound || x > bound {
			t.Fatalf("linear bias %v outside ±%v", x, bound)
		}
	}
	w := tensor.New(64, 32, 3, 3)
	KaimingNormalFanOut(w, newRNG())
	ss = 0
	for _, x := range w.Data {
		ss += float64(x) * float64(x)
	}
	if v, want := ss/float64(len(w.Data)), 2.0/(64*9); math.Abs(v-want) > 0.05*want {
		t.Errorf("kaiming fan_out variance %.4g, want %.4g", v, want)
	}
}

func TestSetTraining(t *testing.T) {
	bn := NewBatchNorm(3)
	m := NewSequential(NewLinear(2, 3, true, newRNG()), NewSequential(bn))
	if !bn.Training {
		t.Fatal("modules must start in training mode")
	}
	x := autograd.Const(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6, -1, 0}, 4, 2))
	autograd.NoGrad(func() { m.Forward(x) })
	if bn.State.NumBatchesTracked != 1 || bn.State.RunningMean.Data[0] == 0 {
		t.Errorf("training forward: tracked %d, running mean %v", bn.State.NumBatchesTracked, bn.State.RunningMean.Data)
	}
	SetTraining(m, false)
	if bn.Training {
		t.Fatal("SetTraining(false) did not reach the batch norm")
	}
	before := bn.State.RunningMean.Clone()
	autograd.NoGrad(func() { m.Forward(x) })
	if tensor.MaxAbsDiff(before, bn.State.RunningMean) != 0 || bn.State.NumBatchesTracked != 1 {
		t.Error("evaluation forward changed the running statistics")
	}
}

func TestResidual(t *testing.T) {
	lin := NewLinear(3, 3, false, newRNG())
	r := &Residual{Body: lin, ReLU: true}
	x := autograd.Const(tensor.FromSlice([]float32{1, -2, 0.5}, 1, 3))
	out := r.Forward(x).Data.Data
	w := lin.Weight.Data.Data
	for i := 0; i < 3; i++ {
		v := x.Data.Data[i]
		for j := 0; j < 3; j++ {
			v += w[i*3+j] * x.Data.Data[j]
		}
		v = max(v, 0)
		if math.Abs(float64(out[i]-v)) > 1e-6 {
			t.Errorf("out[%d] = %v, want %v", i, out[i], v)
		}
	}
	if got := names(State(r)); got != "body.weight" {
		t.Errorf("names %s", got)
	}
}

// TestMLPGradcheck differentiates an MLP with batch norm (training mode)
// through the module API and compares every parameter's gradient with
// central finite differences.
func TestMLPGradcheck(t *testing.T) {
	head := MLP(MLPSpec{Dims: []int{4, 6, 3}, HiddenBN: true}, newRNG())
	x := tensor.New(5, 4)
	Normal(x, 0, 1, newRNG())
	target := tensor.New(5, 3)
	Normal(target, 0, 1, rand.New(rand.NewPCG(3, 3)))
	lossOf := func() *autograd.Value {
		d := autograd.Sub(head.Forward(autograd.Const(x)), autograd.Const(target))
		return autograd.Sum(autograd.Mul(d, d), nil, false)
	}
	l := lossOf()
	autograd.Backward(l)
	autograd.Free(l)
	eval := func() float64 {
		var v float64
		autograd.NoGrad(func() { v = float64(lossOf().Item()) })
		return v
	}
	const eps = 1e-2
	for _, p := range Params(head) {
		w := p.Value.Data.Data
		for j := range w {
			orig := w[j]
			w[j] = orig + eps
			up := eval()
			w[j] = orig - eps
			down := eval()
			w[j] = orig
			num, ana := (up-down)/(2*eps), float64(p.Value.Grad.Data[j])
			if math.Abs(num-ana) > 2e-2*math.Max(1, math.Abs(num)) {
				t.Fatalf("%s[%d]: analytic %.5g, numeric %.5g", p.Name, j, ana, num)
			}
		}
	}
}
