package methods

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/optim"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// tinyMoCoConfig is a ResNet-18 of base width 4 (32-d features) on 8×8
// RGB images, a 16-d embedding and a queue of 20 keys (not a multiple of
// the batch of 8, so the ring wraps).
func tinyMoCoConfig(version, splits int) Config {
	cfg := Config{
		Encoder:     models.Config{Arch: "resnet18", Stem: models.StemCIFAR, InChannels: 3, Width: 0.0625},
		ProjDim:     16,
		DatasetSize: 64,
	}
	cfg.Options.MoCo = MoCoConfig{Version: version, QueueSize: 20, Momentum: 0.9, BNSplits: splits}
	return cfg
}

func newTinyMoCo(t *testing.T, version, splits int, seed uint64) *MoCo {
	t.Helper()
	m, err := New("moco", tinyMoCoConfig(version, splits), seed)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*MoCo)
}

func tinyBatch(seed uint64, step int) Batch {
	rng := rand.New(rand.NewPCG(seed, 99))
	views := make([]*tensor.Tensor, 2)
	for v := range views {
		views[v] = tensor.New(8, 8, 8, 3)
		for i := range views[v].Data {
			views[v].Data[i] = rng.Float32()
		}
	}
	return Batch{Views: views, Indices: []int{0, 1, 2, 3, 4, 5, 6, 7}, Step: step}
}

func paramsOf(m nn.Module) []*tensor.Tensor {
	var out []*tensor.Tensor
	for _, p := range nn.Params(m) {
		out = append(out, p.Value.Data.Clone())
	}
	return out
}

func TestMomentumUpdateByHand(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	online := nn.NewSequential(nn.NewLinear(2, 1, true, rng), nn.NewBatchNorm(1))
	target := nn.NewSequential(nn.NewLinear(2, 1, true, rng), nn.NewBatchNorm(1))
	lin := online.At(0).(*nn.Linear)
	copy(lin.Weight.Data.Data, []float32{1, -2})
	lin.Bias.Data.Data[0] = 0.5
	online.At(1).(*nn.BatchNorm).State.RunningMean.Data[0] = 3
	var ema momentum
	ema.add(online, target)
	tl, tbn := target.At(0).(*nn.Linear), target.At(1).(*nn.BatchNorm)
	if w := tl.Weight.Data.Data; w[0] != 1 || w[1] != -2 || tl.Bias.Data.Data[0] != 0.5 || tbn.State.RunningMean.Data[0] != 3 {
		t.Fatalf("target after add: weight %v bias %v running mean %v, want the online copy", w, tl.Bias.Data.Data, tbn.State.RunningMean.Data)
	}
	if len(ema.pairs) != 4 {
		t.Fatalf("%d pairs, want 4 parameters (weight, bias, γ, β)", len(ema.pairs))
	}
	// The online network takes a step; the target follows with m = 0.75:
	// w: 0.75·1 + 0.25·3 = 1.5, 0.75·(−2) + 0.25·2 = −1, b: 0.75·0.5 + 0.25·(−1.5) = 0.
	copy(lin.Weight.Data.Data, []float32{3, 2})
	lin.Bias.Data.Data[0] = -1.5
	online.At(1).(*nn.BatchNorm).State.RunningMean.Data[0] = 7
	ema.update(0.75)
	if w, b := tl.Weight.Data.Data, tl.Bias.Data.Data[0]; w[0] != 1.5 || w[1] != -1 || b != 0 {
		t.Errorf("after update(0.75): weight %v bias %v, want [1.5 -1] 0", w, b)
	}
	if rm := tbn.State.RunningMean.Data[0]; rm != 3 {
		t.Errorf("running mean %v: buffers must not be averaged, want 3", rm)
	}
	ema.update(1)
	if w := tl.Weight.Data.Data; w[0] != 1.5 || w[1] != -1 {
		t.Errorf("update(1) moved the target to %v", w)
	}
	ema.update(0)
	if w := tl.Weight.Data.Data; w[0] != 3 || w[1] != 2 {
		t.Errorf("update(0): %v, want the online weights [3 2]", w)
	}
}

func TestCosineMomentum(t *testing.T) {
	for _, c := range []struct {
		step, total int
		want        float64
	}{{0, 0, 0.99}, {500, 0, 0.99}, {0, 100, 0.99}, {50, 100, 0.995}, {100, 100, 1}, {200, 100, 1}} {
		if got := cosineMomentum(0.99, c.step, c.total); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("cosineMomentum(0.99, %d, %d) = %v, want %v", c.step, c.total, got, c.want)
		}
	}
	// A quarter of the way: 1 − 0.01·(cos(π/4) + 1)/2.
	if got, want := cosineMomentum(0.99, 25, 100), 1-0.01*(math.Sqrt(0.5)+1)/2; math.Abs(got-want) > 1e-12 {
		t.Errorf("quarter: %v, want %v", got, want)
	}
}

func TestKeyQueueFIFO(t *testing.T) {
	q := newKeyQueue(4, 2, rand.New(rand.NewPCG(2, 2)))
	for i := 0; i < 4; i++ {
		r := q.Keys.Data[2*i : 2*i+2]
		if n := math.Hypot(float64(r[0]), float64(r[1])); math.Abs(n-1) > 1e-6 {
			t.Errorf("initial key %d has norm %v, want 1", i, n)
		}
	}
	rows := func(vals ...float32) *tensor.Tensor { return tensor.FromSlice(vals, len(vals)/2, 2) }
	q.enqueue(rows(1, 1, 2, 2))
	q.enqueue(rows(3, 3, 4, 4, 5, 5)) // wraps: rows 2, 3, 0
	want := []float32{5, 5, 2, 2, 3, 3, 4, 4}
	if !equal(q.Keys.Data, want) || q.Ptr != 1 {
		t.Fatalf("after 2+3 keys: %v ptr %d, want %v ptr 1", q.Keys.Data, q.Ptr, want)
	}
	// The oldest key (2) goes first.
	q.enqueue(rows(6, 6))
	if want := []float32{5, 5, 6, 6, 3, 3, 4, 4}; !equal(q.Keys.Data, want) || q.Ptr != 2 {
		t.Fatalf("after one more: %v ptr %d, want %v ptr 2", q.Keys.Data, q.Ptr, want)
	}
	// More keys than K: only the newest K stay (7 is written at row 2 and
	// overwritten by 11), ptr advances by 5 mod 4.
	q.enqueue(rows(7, 7, 8, 8, 9, 9, 10, 10, 11, 11))
	if want := []float32{9, 9, 10, 10, 11, 11, 8, 8}; !equal(q.Keys.Data, want) || q.Ptr != 3 {
		t.Fatalf("after 5 keys: %v ptr %d, want %v ptr 3", q.Keys.Data, q.Ptr, want)
	}

	s := map[string]*tensor.Tensor{}
	q.putState(s, "queue")
	r := newKeyQueue(4, 2, rand.New(rand.NewPCG(3, 3)))
	if err := r.loadState(s, "queue"); err != nil || !equal(r.Keys.Data, q.Keys.Data) || r.Ptr != 3 {
		t.Fatalf("loadState: %v, keys %v ptr %d", err, r.Keys.Data, r.Ptr)
	}
	for _, bad := range []map[string]*tensor.Tensor{
		{"queue": q.Keys},
		{"queue": tensor.New(4, 3), "queue_ptr": tensor.New(1)},
		{"queue": q.Keys, "queue_ptr": tensor.FromSlice([]float32{4}, 1)},
		{"queue": q.Keys, "queue_ptr": tensor.FromSlice([]float32{1.5}, 1)},
	} {
		if err := r.loadState(bad, "queue"); err == nil {
			t.Errorf("loadState(%v) accepted a bad state", bad)
		}
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMoCoConfig(t *testing.T) {
	var c MoCoConfig
	c.Defaults()
	if c.Version != 2 || c.Momentum != 0.999 || c.BNSplits != 8 || c.QueueSize != 0 || c.AugmentPreset() != "moco-v2" {
		t.Errorf("defaults %+v preset %s", c, c.AugmentPreset())
	}
	if (MoCoConfig{Version: 1}).AugmentPreset() != "moco-v1" {
		t.Error("v1 preset is not moco-v1")
	}
	for n, want := range map[int]int{50000: 4096, 60000: 4096, 1281167: 65536, 8: 16, 1000: 64} {
		if got := c.queueSize(n); got != want {
			t.Errorf("queue for %d images: %d, want %d", n, got, want)
		}
	}
	if got := (MoCoConfig{QueueSize: 1000}).queueSize(50000); got != 1000 {
		t.Errorf("explicit queue size: %d", got)
	}
	for _, bad := range []MoCoConfig{{Version: 3}, {QueueSize: -1}, {Momentum: 1}, {Momentum: -0.5}, {MomentumCosineSteps: -1}, {BNSplits: -2}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v: no error", bad)
		} else if !strings.Contains(err.Error(), "moco-") {
			t.Errorf("%+v: error %q does not name the flag", bad, err)
		}
	}
	cfg := tinyMoCoConfig(4, 1)
	if _, err := New("moco", cfg, 1); err == nil || !strings.Contains(err.Error(), "moco-version") {
		t.Errorf("version 4: %v", err)
	}

	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c = MoCoConfig{}
	c.Defaults()
	c.Flags(fs)
	if err := fs.Parse([]string{"--moco-version", "1", "--moco-queue-size", "512", "--moco-bn-splits", "1", "--moco-momentum", "0.99", "--moco-momentum-cosine-steps", "300"}); err != nil {
		t.Fatal(err)
	}
	if c != (MoCoConfig{Version: 1, QueueSize: 512, Momentum: 0.99, MomentumCosineSteps: 300, BNSplits: 1}) {
		t.Errorf("flags parsed to %+v", c)
	}
}

func TestMoCoVersions(t *testing.T) {
	for _, c := range []struct {
		version int
		tau     float32
		heads   []string
	}{
		{1, 0.07, []string{"projector.0.weight", "projector.0.bias"}},
		{2, 0.2, []string{"projector.0.weight", "projector.0.bias", "projector.2.weight", "projector.2.bias"}},
	} {
		m := newTinyMoCo(t, c.version, 1, 1)
		var heads []string
		for _, p := range nn.Params(m.Model()) {
			if strings.HasPrefix(p.Name, "projector.") {
				heads = append(heads, p.Name)
			}
		}
		if m.Temperature() != c.tau || fmt.Sprint(heads) != fmt.Sprint(c.heads) {
			t.Errorf("v%d: τ %v head %v, want τ %v head %v", c.version, m.Temperature(), heads, c.tau, c.heads)
		}
		if m.QueueSize() != 20 || m.queue.Keys.Dim(1) != 16 {
			t.Errorf("v%d: queue %v, want [20 16]", c.version, m.queue.Keys.Shape())
		}
	}
}

// TestMoCoStepOrder pins Algorithm 1's order on one step: the loss uses
// the queue before this batch's keys are enqueued; no gradient reaches
// f_k and Loss+backward leave it untouched; AfterStep moves f_k towards
// f_q *after* its optimizer step (θ_k ← m·θ_k + (1−m)·θ_q'), then
// enqueues the keys at the pointer.
func TestMoCoStepOrder(t *testing.T) {
	m := newTinyMoCo(t, 2, 1, 3)
	q0, k0 := paramsOf(m.query.root), paramsOf(m.key.root)
	for i := range q0 {
		if !equal(q0[i].Data, k0[i].Data) {
			t.Fatalf("f_k parameter %d is not initialised from f_q", i)
		}
	}
	queue0, ptr0 := m.queue.Keys.Clone(), m.queue.Ptr
	b := tinyBatch(5, 0)

	// With f_k = f_q and plain BN, k is f_q's normalised embedding of x_k.
	var wantK *tensor.Tensor
	autograd.NoGrad(func() {
		wantK = autograd.L2Normalize(m.query.forward(autograd.Const(b.Views[1])), 1e-12).Data.Clone()
	})

	l := m.Loss(b)
	if !equal(m.k.Data, wantK.Data) {
		t.Fatalf("keys differ from f_q(x_k) by %g", tensor.MaxAbsDiff(m.k, wantK))
	}
	// The loss is InfoNCE over the queue as it was before this batch.
	var wantLoss float64
	autograd.NoGrad(func() {
		qn := autograd.L2Normalize(m.query.forward(autograd.Const(b.Views[0])), 1e-12).Data
		wantLoss = infonceOracle(qn, wantK, queue0, float64(m.Temperature()))
	})
	if got := float64(l.Item()); math.Abs(got-wantLoss) > 1e-5 {
		t.Fatalf("loss %v, InfoNCE over the old queue %v", got, wantLoss)
	}
	autograd.Backward(l)
	for _, p := range nn.Params(m.key.root) {
		if p.Value.Grad != nil {
			t.Fatalf("gradient reached f_k's %s", p.Name)
		}
	}
	var withGrad int
	for _, p := range nn.Params(m.Model()) {
		if p.Value.Grad != nil {
			withGrad++
		}
	}
	if withGrad == 0 {
		t.Fatal("no gradient reached f_q")
	}
	// An SGD step on f_q by hand.
	for _, p := range nn.Params(m.Model()) {
		if g := p.Value.Grad; g != nil {
			for i := range p.Value.Data.Data {
				p.Value.Data.Data[i] -= 0.5 * g.Data[i]
			}
		}
	}
	nn.ZeroGrad(m.Model())
	autograd.Free(l)
	for i, p := range paramsOf(m.key.root) {
		if !equal(p.Data, k0[i].Data) {
			t.Fatalf("f_k parameter %d changed before AfterStep", i)
		}
	}
	if !equal(m.queue.Keys.Data, queue0.Data) {
		t.Fatal("queue changed before AfterStep")
	}
	q1 := paramsOf(m.query.root)

	m.AfterStep(0)
	moved := 0
	for i, p := range paramsOf(m.key.root) {
		for j, v := range p.Data {
			// PyTorch's param_k·m + param_q·(1−m): three rounded float32 ops.
			want := float32(k0[i].Data[j]*0.9) + float32(q1[i].Data[j]*float32(1-0.9))
			if v != want {
				t.Fatalf("f_k parameter %d[%d] = %v, want 0.9·%v + 0.1·%v = %v", i, j, v, k0[i].Data[j], q1[i].Data[j], want)
			}
			if q1[i].Data[j] != q0[i].Data[j] {
				moved++
			}
		}
	}
	if moved == 0 {
		t.Fatal("the SGD step did not change f_q: the order check is vacuous")
	}
	// enqueue(queue, k): rows 0..7 hold k, the others are unchanged.
	for r := 0; r < 20; r++ {
		got := m.queue.Keys.Data[r*16 : (r+1)*16]
		want := queue0.Data[r*16 : (r+1)*16]
		if i := (r - ptr0 + 20) % 20; i < 8 {
			want = wantK.Data[i*16 : (i+1)*16]
		}
		if !equal(got, want) {
			t.Fatalf("queue row %d = %v, want %v", r, got, want)
		}
	}
	if m.queue.Ptr != (ptr0+8)%20 {
		t.Errorf("queue pointer %d, want %d", m.queue.Ptr, (ptr0+8)%20)
	}
	// A second AfterStep without a Loss moves f_k but enqueues nothing.
	keys := m.queue.Keys.Clone()
	m.AfterStep(1)
	if !equal(keys.Data, m.queue.Keys.Data) || m.queue.Ptr != (ptr0+8)%20 {
		t.Error("AfterStep without a new Loss enqueued keys again")
	}
}

// infonceOracle is Eq. 1 in float64 over normalised q, k and queue rows.
func infonceOracle(q, k, queue *tensor.Tensor, tau float64) float64 {
	n, c := q.Dim(0), q.Dim(1)
	dot := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	var l float64
	for i := 0; i < n; i++ {
		qi := q.Data[i*c : (i+1)*c]
		pos := math.Exp(dot(qi, k.Data[i*c:(i+1)*c]) / tau)
		den := pos
		for j := 0; j < queue.Dim(0); j++ {
			den += math.Exp(dot(qi, queue.Data[j*c:(j+1)*c]) / tau)
		}
		l -= math.Log(pos / den)
	}
	return l / float64(n)
}

// TestSplitBNByHand runs a lone batch norm over 8 one-channel samples in
// two sub-batches: each is normalised with its own mean and variance, and
// the running statistics move once, towards the mean of the two.
func TestSplitBNByHand(t *testing.T) {
	bn := nn.NewBatchNorm(1)
	net := nn.NewSequential(bn)
	s := newSplitBN(net)
	x := tensor.FromSlice([]float32{1, 2, 3, 6, 10, 10, 14, 14}, 8, 1)
	outs := s.forward(net.Forward, x, 2)
	// Group 1: mean 3, biased variance 3.5, unbiased 14/3.
	// Group 2: mean 12, biased variance 4, unbiased 16/3.
	want := [][]float64{{-2, -1, 0, 3}, {-2, -2, 2, 2}}
	vars := []float64{3.5, 4}
	for g, o := range outs {
		for i, w := range want[g] {
			w /= math.Sqrt(vars[g] + 1e-5)
			if got := float64(o.Data.Data[i]); math.Abs(got-w) > 1e-5 {
				t.Errorf("group %d row %d: %v, want %v", g, i, got, w)
			}
		}
	}
	rm, rv := bn.State.RunningMean.Data[0], bn.State.RunningVar.Data[0]
	if wm, wv := 0.1*7.5, 0.9+0.1*5.0; math.Abs(float64(rm)-wm) > 1e-6 || math.Abs(float64(rv)-wv) > 1e-6 {
		t.Errorf("running mean %v var %v, want %v %v", rm, rv, wm, wv)
	}
	if bn.State.NumBatchesTracked != 1 {
		t.Errorf("num_batches_tracked %d, want 1", bn.State.NumBatchesTracked)
	}
	// Three groups of an uneven batch: sizes 2, 3, 3.
	outs = s.forward(net.Forward, x, 3)
	if len(outs) != 3 || outs[0].Shape()[0] != 2 || outs[1].Shape()[0] != 3 || outs[2].Shape()[0] != 3 {
		t.Errorf("uneven split: %d groups", len(outs))
	}
}

// TestMoCoShuffleBN checks the single-device shuffling BN: each key is
// f_k of its image encoded together with the other images of its shuffled
// sub-batch and comes back in batch order; the shuffle depends only on
// (seed, step).
func TestMoCoShuffleBN(t *testing.T) {
	const seed = 4
	m := newTinyMoCo(t, 1, 2, seed)
	b := tinyBatch(6, 7)
	l := m.Loss(b)
	autograd.Free(l)
	got := m.k.Clone()

	perm := make([]int, 8)
	for i := range perm {
		perm[i] = i
	}
	rng := rand.New(rand.NewPCG(seed^mocoShuffleSalt, 7))
	rng.Shuffle(8, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	xk := b.Views[1]
	row := xk.Numel() / 8
	var full *tensor.Tensor
	autograd.NoGrad(func() {
		for g := 0; g < 2; g++ {
			sub := tensor.New(4, 8, 8, 3)
			for j := 0; j < 4; j++ {
				copy(sub.Data[j*row:(j+1)*row], xk.Data[perm[4*g+j]*row:(perm[4*g+j]+1)*row])
			}
			k := autograd.L2Normalize(m.key.forward(autograd.Const(sub)), 1e-12).Data
			for j := 0; j < 4; j++ {
				i := perm[4*g+j]
				if d := maxDiff(got.Data[i*16:(i+1)*16], k.Data[j*16:(j+1)*16]); d > 1e-6 {
					t.Errorf("key %d (sub-batch %d) differs by %g from its sub-batch's encoding", i, g, d)
				}
			}
		}
		full = autograd.L2Normalize(m.key.forward(autograd.Const(xk)), 1e-12).Data
	})
	if d := tensor.MaxAbsDiff(full, got); d < 1e-3 {
		t.Errorf("split keys equal whole-batch keys (max diff %g): the sub-batches have no own statistics", d)
	}

	// Same step: same keys; another step: another shuffle.
	m2 := newTinyMoCo(t, 1, 2, seed)
	autograd.Free(m2.Loss(b))
	if !equal(m2.k.Data, got.Data) {
		t.Error("same (seed, step) gave different keys")
	}
	m3 := newTinyMoCo(t, 1, 2, seed)
	b.Step = 8
	autograd.Free(m3.Loss(b))
	if equal(m3.k.Data, got.Data) {
		t.Error("steps 7 and 8 shuffled the keys the same way")
	}
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// trainSteps runs steps optimizer steps of the training loop's shape.
func trainSteps(t *testing.T, m *MoCo, opt optim.Optimizer, from, steps int) []float32 {
	t.Helper()
	var losses []float32
	for s := from; s < from+steps; s++ {
		l := m.Loss(tinyBatch(uint64(100+s), s))
		losses = append(losses, l.Item())
		autograd.Backward(l)
		opt.Step()
		opt.ZeroGrad()
		autograd.Free(l)
		m.AfterStep(s)
	}
	return losses
}

func newSGD(t *testing.T, m *MoCo) optim.Optimizer {
	t.Helper()
	opt, err := optim.NewSGD(optim.Params(nn.Params(m.Model())), optim.SGDConfig{LR: 0.1, Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// TestMoCoSmoke runs 3 steps of v1 and v2 on 8 tiny images: finite
// losses, f_q trained, f_k moved, 24 keys enqueued.
func TestMoCoSmoke(t *testing.T) {
	for _, version := range []int{1, 2} {
		m := newTinyMoCo(t, version, 8, 1)
		q0, k0 := paramsOf(m.query.root), paramsOf(m.key.root)
		losses := trainSteps(t, m, newSGD(t, m), 0, 3)
		for i, l := range losses {
			if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) || l <= 0 {
				t.Errorf("v%d step %d: loss %v", version, i, l)
			}
		}
		if q1 := paramsOf(m.query.root); equal(q1[0].Data, q0[0].Data) {
			t.Errorf("v%d: f_q did not train", version)
		}
		if k1 := paramsOf(m.key.root); equal(k1[0].Data, k0[0].Data) {
			t.Errorf("v%d: f_k did not move", version)
		}
		if m.queue.Ptr != 24%20 {
			t.Errorf("v%d: queue pointer %d after 24 keys, want 4", version, m.queue.Ptr)
		}
	}
}

// TestMoCoResumeIsExact checkpoints after 2 steps (weights, optimizer and
// State under extra/), restores into a freshly built method (at its
// initial weights and queue), and requires the third step to match the
// uninterrupted run bit for bit.
func TestMoCoResumeIsExact(t *testing.T) {
	a := newTinyMoCo(t, 2, 2, 11)
	optA := newSGD(t, a)
	trainSteps(t, a, optA, 0, 2)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	err := checkpoint.Save(path, &checkpoint.Checkpoint{
		Model: checkpoint.Entries(nn.State(a.Model())), Optimizer: optA.State(), Step: 2, Extra: a.State(),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := trainSteps(t, a, optA, 2, 1)

	b := newTinyMoCo(t, 2, 2, 11)
	optB := newSGD(t, b)
	ck, err := checkpoint.Load(path, checkpoint.Entries(nn.State(b.Model())))
	if err != nil {
		t.Fatal(err)
	}
	if err := optB.LoadState(ck.Optimizer); err != nil {
		t.Fatal(err)
	}
	if len(ck.Extra) != len(b.State()) || ck.Extra["queue_ptr"].Data[0] != 16 {
		t.Fatalf("checkpoint extra: %d tensors, queue_ptr %v", len(ck.Extra), ck.Extra["queue_ptr"])
	}
	if err := b.LoadState(ck.Extra); err != nil {
		t.Fatal(err)
	}
	got := trainSteps(t, b, optB, 2, 1)
	if got[0] != want[0] {
		t.Fatalf("step 3 loss: resumed %v, uninterrupted %v", got[0], want[0])
	}
	sa, sb := a.State(), b.State()
	for name, x := range sa {
		if !bytes.Equal(f32bytes(x), f32bytes(sb[name])) {
			t.Fatalf("state %s differs after the resumed step", name)
		}
	}
	for i, p := range paramsOf(b.Model()) {
		if !equal(p.Data, paramsOf(a.Model())[i].Data) {
			t.Fatalf("f_q parameter %d differs after the resumed step", i)
		}
	}
}

func f32bytes(t *tensor.Tensor) []byte {
	b := make([]byte, 4*len(t.Data))
	for i, v := range t.Data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func TestMoCoLoadStateErrors(t *testing.T) {
	m := newTinyMoCo(t, 1, 1, 1)
	good := func() map[string]*tensor.Tensor {
		s := map[string]*tensor.Tensor{}
		for k, v := range m.State() {
			s[k] = v.Clone()
		}
		return s
	}
	for name, edit := range map[string]func(s map[string]*tensor.Tensor){
		"missing key tensor": func(s map[string]*tensor.Tensor) { delete(s, "encoder_k.conv1.weight") },
		"missing queue":      func(s map[string]*tensor.Tensor) { delete(s, "queue") },
		"bad shape":          func(s map[string]*tensor.Tensor) { s["encoder_k.projector.0.bias"] = tensor.New(3) },
		"unexpected":         func(s map[string]*tensor.Tensor) { s["memory_bank"] = tensor.New(3) },
		"bad counter": func(s map[string]*tensor.Tensor) {
			s["encoder_k.bn1.num_batches_tracked"] = tensor.FromSlice([]float32{0.5}, 1)
		},
		"bad pointer": func(s map[string]*tensor.Tensor) { s["queue_ptr"] = tensor.FromSlice([]float32{20}, 1) },
	} {
		s := good()
		edit(s)
		if err := m.LoadState(s); err == nil {
			t.Errorf("%s: LoadState accepted it", name)
		}
	}
	if err := m.LoadState(good()); err != nil {
		t.Errorf("own state: %v", err)
	}
}

// ExampleNewMoCo builds MoCo v2 on a small ResNet-18 and takes one step of
// Algorithm 1 (the optimizer step is left out).
func ExampleNewMoCo() {
	cfg := Config{
		Encoder:     models.Config{Arch: "resnet18", Stem: models.StemCIFAR, InChannels: 3, Width: 0.0625},
		DatasetSize: 50000, // CIFAR-10: K = 4096
	}
	cfg.Options.MoCo.Version = 2
	m, err := New("moco", cfg, 1)
	if err != nil {
		panic(err)
	}
	moco := m.(*MoCo)
	fmt.Printf("K = %d, τ = %v\n", moco.QueueSize(), moco.Temperature())

	x := tensor.Full(0.5, 4, 8, 8, 3)
	l := m.Loss(Batch{Views: []*tensor.Tensor{x, x.Clone()}, Step: 0})
	autograd.Backward(l)
	autograd.Free(l)
	m.AfterStep(0) // momentum update of f_k, enqueue the 4 keys
	fmt.Println("queue_ptr", m.State()["queue_ptr"].Data[0])
	// Output:
	// K = 4096, τ = 0.2
	// queue_ptr 4
}
