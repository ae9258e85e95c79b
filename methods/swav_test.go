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
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/optim"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// tinySwAVConfig is a SwAV small enough for unit tests: a ResNet-18 of
// base width 4 on 3-channel crops, 16-d embeddings and 6 prototypes.
func tinySwAVConfig(opt SwAVConfig) Config {
	cfg := Config{
		Encoder: models.Config{Arch: "resnet18", Stem: models.StemCIFAR, InChannels: 3, Width: 0.0625},
		ProjDim: 16, ProjHidden: 16, StepsPerEpoch: 4,
	}
	cfg.Options.SwAV = opt
	cfg.Defaults()
	return cfg
}

func swavOptions(f func(*SwAVConfig)) SwAVConfig {
	var o SwAVConfig
	o.Defaults()
	o.Prototypes = 6
	if f != nil {
		f(&o)
	}
	return o
}

func newTinySwAV(t *testing.T, opt SwAVConfig, seed uint64) *SwAV {
	t.Helper()
	m, err := NewSwAV(tinySwAVConfig(opt), seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// swavBatch returns B = 4 images as 2 global 16×16 crops and `local` 8×8
// crops, deterministic in (seed, step); Epoch is step/4.
func swavBatch(seed uint64, step, local int) Batch {
	rng := rand.New(rand.NewPCG(seed, uint64(step)))
	view := func(size int) *tensor.Tensor {
		v := tensor.New(4, size, size, 3)
		for i := range v.Data {
			v.Data[i] = float32(rng.NormFloat64())
		}
		return v
	}
	views := []*tensor.Tensor{view(16), view(16)}
	for range local {
		views = append(views, view(8))
	}
	return Batch{Views: views, Indices: []int{0, 1, 2, 3}, Step: step, Epoch: step / 4}
}

func swavSGD(t *testing.T, m *SwAV) optim.Optimizer {
	t.Helper()
	o, err := optim.NewSGD(optim.Params(nn.Params(m.Model())), optim.SGDConfig{LR: 0.5, Momentum: 0.9, WeightDecay: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// swavStep runs one training step the way train.Run does and returns the
// loss.
func swavStep(m *SwAV, o optim.Optimizer, b Batch) float32 {
	l := m.Loss(b)
	v := l.Item()
	autograd.Backward(l)
	o.Step()
	o.ZeroGrad()
	autograd.Free(l)
	m.AfterStep(b.Step)
	return v
}

func swavBytes(t *tensor.Tensor) []byte {
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, t.Data)
	return buf.Bytes()
}

func swavSnapshot(m *SwAV) map[string][]byte {
	out := map[string][]byte{}
	for _, e := range nn.State(m.Model()) {
		if e.F32 != nil {
			out[e.Name] = swavBytes(e.F32)
		}
	}
	for k, v := range m.State() {
		out["extra/"+k] = swavBytes(v)
	}
	return out
}

// TestSwAVCodesMatchPyTorch sets the fixture's prototypes and full queue
// into the method and compares its codes (Sinkhorn-Knopp over the queue's
// and the batch's scores, batch rows kept) and the loss of the fixture's
// scores with main_swav.py's.
func TestSwAVCodesMatchPyTorch(t *testing.T) {
	const path = "../loss/testdata/swav.safetensors"
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatalf("%v (re-run: /usr/bin/python3 tools/gen_swav_fixtures.py)", err)
	}
	get := func(name string) *tensor.Tensor {
		x, err := f.Float32(name)
		if err != nil {
			t.Fatalf("%s: %v (re-run: /usr/bin/python3 tools/gen_swav_fixtures.py)", path, err)
		}
		return x
	}
	for _, key := range strings.Split(f.Metadata["swapped_cases"], ",") {
		if strings.HasSuffix(key, "_q0") {
			continue
		}
		t.Run(key, func(t *testing.T) {
			crops, err := f.Ints(key + ".crops")
			if err != nil {
				t.Fatal(err)
			}
			v, a := crops[0], crops[1]
			c, queue, scores := get(key+".c"), get(key+".queue"), get(key+".scores")
			k, d := c.Dim(0), c.Dim(1)
			b := scores.Dim(0) / v
			opt := swavOptions(func(o *SwAVConfig) {
				o.Prototypes, o.GlobalCrops, o.LocalCrops, o.QueueLength = k, a, v-a, queue.Dim(1)
			})
			cfg := tinySwAVConfig(opt)
			cfg.ProjDim = d
			m, err := NewSwAV(cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			m.prototypes.Weight.Data.CopyFrom(c)
			if err := m.LoadState(map[string]*tensor.Tensor{"queue": queue}); err != nil {
				t.Fatal(err)
			}
			codes := make([]*tensor.Tensor, a)
			idx := make([]int, a)
			for s := 0; s < a; s++ {
				if !m.queueFull(s) {
					t.Fatalf("queue of crop %d not in use", s)
				}
				codes[s], idx[s] = m.codes(s, scores.Slice(s*b, (s+1)*b)), s
				if diff := tensor.MaxAbsDiff(codes[s], get(fmt.Sprintf("%s.codes%d", key, s))); diff > 2e-6 {
					t.Errorf("codes of crop %d differ from PyTorch by %.3g", s, diff)
				}
			}
			var l float32
			autograd.NoGrad(func() { l = loss.SwappedPrediction(autograd.Const(scores), codes, idx, m.tau).Item() })
			if want := get(key + ".loss").Data[0]; math.Abs(float64(l-want)) > 1e-5*math.Max(1, float64(want)) {
				t.Errorf("loss %.7g, PyTorch %.7g", l, want)
			}
		})
	}
}

// TestSwAVPrototypesNormalized: after every update the prototypes are unit
// vectors again, and they did move.
func TestSwAVPrototypesNormalized(t *testing.T) {
	m := newTinySwAV(t, swavOptions(func(o *SwAVConfig) { o.FreezePrototypes = 0 }), 3)
	o := swavSGD(t, m)
	init := m.prototypes.Weight.Data.Clone()
	for step := 0; step < 2; step++ {
		swavStep(m, o, swavBatch(5, step, 2))
		w := m.prototypes.Weight.Data
		k, d := w.Dim(0), w.Dim(1)
		for r := 0; r < k; r++ {
			var ss float64
			for _, x := range w.Data[r*d : (r+1)*d] {
				ss += float64(x) * float64(x)
			}
			if math.Abs(math.Sqrt(ss)-1) > 1e-6 {
				t.Errorf("step %d: prototype %d has norm %.8f, want 1", step, r, math.Sqrt(ss))
			}
		}
	}
	if d := tensor.MaxAbsDiff(init, m.prototypes.Weight.Data); d < 1e-4 {
		t.Errorf("prototypes moved by %.3g in 2 unfrozen steps", d)
	}
}

// TestSwAVFreezing: during the first FreezePrototypes iterations the
// prototypes get no gradient and the optimizer leaves them (and their
// momentum buffer) untouched, despite weight decay, while the encoder
// trains; the step after, they move.
func TestSwAVFreezing(t *testing.T) {
	m := newTinySwAV(t, swavOptions(func(o *SwAVConfig) { o.FreezePrototypes = 2 }), 4)
	o := swavSGD(t, m)
	init := m.prototypes.Weight.Data.Clone()
	conv := m.encoder.Conv1.Weight.Data.Clone()
	for step := 0; step < 2; step++ {
		if !m.Frozen(step) {
			t.Fatalf("step %d not frozen", step)
		}
		l := m.Loss(swavBatch(6, step, 2))
		autograd.Backward(l)
		if g := m.prototypes.Weight.Grad; g != nil && tensor.MaxAbsDiff(g, tensor.New(g.Shape()...)) != 0 {
			t.Errorf("step %d: frozen prototypes received a gradient", step)
		}
		o.Step()
		o.ZeroGrad()
		autograd.Free(l)
		m.AfterStep(step)
		if !bytes.Equal(swavBytes(init), swavBytes(m.prototypes.Weight.Data)) {
			t.Fatalf("step %d: frozen prototypes changed", step)
		}
		if buf := o.State()["momentum_buffer/prototypes.weight"]; buf != nil && tensor.MaxAbsDiff(buf, tensor.New(buf.Shape()...)) != 0 {
			t.Fatalf("step %d: momentum buffer of frozen prototypes is non-zero", step)
		}
	}
	if d := tensor.MaxAbsDiff(conv, m.encoder.Conv1.Weight.Data); d == 0 {
		t.Error("encoder did not train while the prototypes were frozen")
	}
	swavStep(m, o, swavBatch(6, 2, 2))
	if d := tensor.MaxAbsDiff(init, m.prototypes.Weight.Data); d < 1e-4 {
		t.Errorf("prototypes moved by %.3g in the first unfrozen step", d)
	}
	// The default freezes the first epoch.
	if d := newTinySwAV(t, swavOptions(nil), 1); !d.Frozen(3) || d.Frozen(4) {
		t.Errorf("default: frozen(3) = %v, frozen(4) = %v, want one epoch (4 steps)", d.Frozen(3), d.Frozen(4))
	}
}

// TestSwAVQueueByHand: from QueueStartEpoch on, each step pushes the
// global crops' embeddings at the front of their queues (newest first);
// L = 6 is not a multiple of B = 4. The queue is used once full.
func TestSwAVQueueByHand(t *testing.T) {
	m := newTinySwAV(t, swavOptions(func(o *SwAVConfig) { o.QueueLength, o.QueueStartEpoch = 6, 1 }), 7)
	o := swavSGD(t, m)
	zero := tensor.New(2, 6, 16)
	for step := 0; step < 4; step++ { // epoch 0: nothing enqueued
		swavStep(m, o, swavBatch(8, step, 1))
	}
	if !bytes.Equal(swavBytes(zero), swavBytes(m.queue)) {
		t.Fatal("queue filled before queue_start_epoch")
	}
	var pend []*tensor.Tensor // pending [2, 4, 16] per step
	for step := 4; step < 6; step++ {
		if m.queueFull(0) || m.queueFull(1) {
			t.Fatalf("step %d: queue in use before it is full", step)
		}
		l := m.Loss(swavBatch(8, step, 1))
		pend = append(pend, m.pending.Clone())
		autograd.Backward(l)
		o.Step()
		o.ZeroGrad()
		autograd.Free(l)
		m.AfterStep(step)
	}
	const d = 16
	for s := 0; s < 2; s++ {
		row := func(r int) []float32 { return m.queue.Data[(s*6+r)*d : (s*6+r+1)*d] }
		emb := func(p, i int) []float32 { return pend[p].Data[(s*4+i)*d : (s*4+i+1)*d] }
		want := [][]float32{emb(1, 0), emb(1, 1), emb(1, 2), emb(1, 3), emb(0, 0), emb(0, 1)}
		for r, w := range want {
			if !bytes.Equal(swavBytes(tensor.FromSlice(row(r), d)), swavBytes(tensor.FromSlice(w, d))) {
				t.Errorf("crop %d: queue row %d is not the expected embedding", s, r)
			}
		}
		var ss float64
		for _, x := range row(5) {
			ss += float64(x) * float64(x)
		}
		if math.Abs(ss-1) > 1e-5 {
			t.Errorf("crop %d: queued embedding has squared norm %v, want 1", s, ss)
		}
		if !m.queueFull(s) {
			t.Errorf("crop %d: queue full but not in use", s)
		}
	}
}

// TestSwAVResumeIsExact trains 6 steps with a queue and frozen first
// steps, and again with a checkpoint round trip after step 3 into a fresh
// method and optimizer: losses, weights and queue agree bit for bit.
func TestSwAVResumeIsExact(t *testing.T) {
	opt := swavOptions(func(o *SwAVConfig) { o.QueueLength, o.QueueStartEpoch, o.FreezePrototypes = 4, 0, 2 })
	full := newTinySwAV(t, opt, 9)
	fo := swavSGD(t, full)
	var want []float32
	for step := 0; step < 6; step++ {
		want = append(want, swavStep(full, fo, swavBatch(10, step, 2)))
	}

	first := newTinySwAV(t, opt, 9)
	o1 := swavSGD(t, first)
	for step := 0; step < 3; step++ {
		if l := swavStep(first, o1, swavBatch(10, step, 2)); l != want[step] {
			t.Fatalf("step %d: loss %v, uninterrupted %v", step, l, want[step])
		}
	}
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := checkpoint.Save(path, &checkpoint.Checkpoint{Model: checkpoint.Entries(nn.State(first.Model())),
		Optimizer: o1.State(), Step: 3, Extra: first.State()}); err != nil {
		t.Fatal(err)
	}
	resumed := newTinySwAV(t, opt, 99) // different init: everything must come from the file
	o2 := swavSGD(t, resumed)
	ck, err := checkpoint.Load(path, checkpoint.Entries(nn.State(resumed.Model())))
	if err != nil {
		t.Fatal(err)
	}
	if err := o2.LoadState(ck.Optimizer); err != nil {
		t.Fatal(err)
	}
	if err := resumed.LoadState(ck.Extra); err != nil {
		t.Fatal(err)
	}
	for step := 3; step < 6; step++ {
		if l := swavStep(resumed, o2, swavBatch(10, step, 2)); l != want[step] {
			t.Fatalf("step %d: resumed loss %v, uninterrupted %v", step, l, want[step])
		}
	}
	ws, rs := swavSnapshot(full), swavSnapshot(resumed)
	if _, ok := ws["extra/queue"]; !ok {
		t.Fatal("no queue in State")
	}
	if len(ws) != len(rs) {
		t.Fatalf("%d tensors vs %d", len(ws), len(rs))
	}
	for name, w := range ws {
		if !bytes.Equal(w, rs[name]) {
			t.Errorf("%s differs between the resumed and the uninterrupted run", name)
		}
	}
}

func TestSwAVLoadStateErrors(t *testing.T) {
	m := newTinySwAV(t, swavOptions(func(o *SwAVConfig) { o.QueueLength = 8 }), 1)
	for _, c := range []struct {
		st   map[string]*tensor.Tensor
		want string
	}{
		{nil, "no queue"},
		{map[string]*tensor.Tensor{"queue": tensor.New(2, 7, 16)}, "shape"},
		{map[string]*tensor.Tensor{"queue": tensor.New(2, 8, 16), "bank": tensor.New(1)}, "unexpected"},
	} {
		if err := m.LoadState(c.st); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadState(%d tensors): %v, want an error about %q", len(c.st), err, c.want)
		}
	}
	if err := newTinySwAV(t, swavOptions(nil), 1).LoadState(map[string]*tensor.Tensor{"queue": tensor.New(1)}); err == nil {
		t.Error("a queue accepted by a SwAV without one")
	}
}

// TestSwAVSmoke runs 3 steps on 8 tiny images (multi-crop 2×16 + 3×8)
// through the registry, with the queue in use from the second step.
func TestSwAVSmoke(t *testing.T) {
	cfg := tinySwAVConfig(swavOptions(func(o *SwAVConfig) { o.QueueLength, o.QueueStartEpoch, o.FreezePrototypes = 8, 0, 1 }))
	mm, err := New("swav", cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := mm.(*SwAV)
	o := swavSGD(t, m)
	rng := rand.New(rand.NewPCG(1, 2))
	for step := 0; step < 3; step++ {
		var views []*tensor.Tensor
		for v := 0; v < 5; v++ {
			s := 16
			if v >= 2 {
				s = 8
			}
			x := tensor.New(8, s, s, 3)
			for i := range x.Data {
				x.Data[i] = rng.Float32()
			}
			views = append(views, x)
		}
		l := swavStep(m, o, Batch{Views: views, Indices: []int{0, 1, 2, 3, 4, 5, 6, 7}, Step: step})
		// A cross-entropy against codes of logits z·c/τ with |z·c| ≤ 1 lies
		// in (0, 2/τ].
		if !(l > 0 && l <= 2/m.tau) {
			t.Fatalf("step %d: loss %v", step, l)
		}
	}
	if !m.queueFull(0) {
		t.Error("queue of 8 not in use after two batches of 8")
	}
}

func TestSwAVCropChecks(t *testing.T) {
	m := newTinySwAV(t, swavOptions(func(o *SwAVConfig) { o.LocalCrops = 2 }), 1)
	for _, c := range []struct {
		b    Batch
		want string
	}{
		{Batch{Views: swavBatch(1, 0, 0).Views[:1]}, "fewer than"},
		{swavBatch(1, 0, 1), "local crops requested"},
		{Batch{Views: append(swavBatch(1, 0, 2).Views[:1], swavBatch(1, 0, 3).Views[2:]...)}, "global crops of one size"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("%d views: panic %v, want %q", len(c.b.Views), r, c.want)
				}
			}()
			m.Loss(c.b)
		}()
	}
}

// TestSwAVLocalCrops: --swav-local-crops 0 trains on the global crops
// only (2-crop SwAV) and gives another loss than with the local crops.
func TestSwAVLocalCrops(t *testing.T) {
	b := swavBatch(2, 0, 3)
	var two, multi float32
	autograd.NoGrad(func() {
		two = newTinySwAV(t, swavOptions(func(o *SwAVConfig) { o.LocalCrops = 0 }), 5).Loss(b).Item()
		multi = newTinySwAV(t, swavOptions(nil), 5).Loss(b).Item()
	})
	if two == multi || !(two > 0) || !(multi > 0) {
		t.Errorf("2-crop loss %v, multi-crop %v: want two different positive losses", two, multi)
	}
}

func TestSwAVConfig(t *testing.T) {
	o := DefaultOptions().SwAV
	if o.Epsilon != 0.05 || o.SinkhornIterations != 3 || o.GlobalCrops != 2 || o.LocalCrops != -1 || o.FreezePrototypes != -1 || o.QueueStartEpoch != 15 {
		t.Errorf("defaults %+v", o)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	o.Flags(fs)
	if err := fs.Parse([]string{"--swav-prototypes", "30", "--swav-queue-length", "256", "--swav-local-crops", "0", "--swav-freeze-prototypes", "100"}); err != nil {
		t.Fatal(err)
	}
	if o.Prototypes != 30 || o.QueueLength != 256 || o.LocalCrops != 0 || o.FreezePrototypes != 100 {
		t.Errorf("after flags: %+v", o)
	}
	for _, bad := range []func(*SwAVConfig){
		func(o *SwAVConfig) { o.Epsilon = 0 },
		func(o *SwAVConfig) { o.SinkhornIterations = 0 },
		func(o *SwAVConfig) { o.GlobalCrops = 0 },
		func(o *SwAVConfig) { o.GlobalCrops, o.LocalCrops = 1, 0 },
		func(o *SwAVConfig) { o.QueueLength = -1 },
		func(o *SwAVConfig) { o.FreezePrototypes = -2 },
	} {
		if _, err := NewSwAV(tinySwAVConfig(swavOptions(bad)), 1); err == nil {
			t.Errorf("config %+v accepted", swavOptions(bad))
		}
	}
	// K defaults to 10× the number of classes but at least 4d, else 3000.
	cfg := tinySwAVConfig(swavOptions(func(o *SwAVConfig) { o.Prototypes = 0 }))
	cfg.NumClasses = 10
	if m, _ := NewSwAV(cfg, 1); m.NumPrototypes() != 100 {
		t.Errorf("K = %d for 10 classes at d = 16, want 100", m.NumPrototypes())
	}
	cfg.ProjDim = 128
	if m, _ := NewSwAV(cfg, 1); m.NumPrototypes() != 512 {
		t.Errorf("K = %d for 10 classes at d = 128, want 512", m.NumPrototypes())
	}
	cfg.NumClasses = 0
	if m, _ := NewSwAV(cfg, 1); m.NumPrototypes() != 3000 {
		t.Errorf("K = %d without labels, want 3000", m.NumPrototypes())
	}
	if p := SwAVLARS(256); p.Optimizer != "lars" || p.LR != 0.6 || p.WeightDecay != 1e-6 || p.Momentum != 0.9 {
		t.Errorf("SwAVLARS(256) = %+v", p)
	}
}

// ExampleNewSwAV builds SwAV for CIFAR-10 (K = max(10 × 10, 4 × 128)
// prototypes, frozen for the first epoch) and computes the loss of one
// multi-crop batch: 2 global 32×32 and 6 local 16×16 crops of 4 images.
func ExampleNewSwAV() {
	cfg := Config{
		Encoder:    models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.0625},
		NumClasses: 10, StepsPerEpoch: 195,
		Options: DefaultOptions(),
	}
	m, err := New("swav", cfg, 1)
	if err != nil {
		panic(err)
	}
	s := m.(*SwAV)
	var views []*tensor.Tensor
	for v := 0; v < 8; v++ {
		size := 32
		if v >= 2 {
			size = 16
		}
		views = append(views, tensor.Full(0.5, 4, size, size, 3))
	}
	l := m.Loss(Batch{Views: views, Step: 0})
	fmt.Printf("K = %d, frozen at step 0: %v, at step 195: %v\n", s.NumPrototypes(), s.Frozen(0), s.Frozen(195))
	fmt.Printf("loss finite: %v\n", !math.IsNaN(float64(l.Item())))
	autograd.Free(l)
	// Output:
	// K = 512, frozen at step 0: true, at step 195: false
	// loss finite: true
}

// BenchmarkSwAVStep times one training step (forward, backward, SGD step,
// AfterStep) of a CIFAR-sized SwAV without the data loader: a ResNet-18
// of width 0.125 (CIFAR stem), B = 64 images as 2 global 32×32 crops plus
// 0 (2-crop SwAV) or 6 local 16×16 crops, K = 100.
func BenchmarkSwAVStep(b *testing.B) {
	for _, local := range []int{0, 6} {
		b.Run(fmt.Sprintf("2x32+%dx16", local), func(b *testing.B) {
			opt := swavOptions(func(o *SwAVConfig) { o.Prototypes, o.FreezePrototypes = 100, 0 })
			cfg := Config{Encoder: models.Config{Arch: "resnet18", Stem: models.StemCIFAR, Width: 0.125}, Options: Options{SwAV: opt}}
			cfg.Defaults()
			m, err := NewSwAV(cfg, 1)
			if err != nil {
				b.Fatal(err)
			}
			o, err := optim.NewSGD(optim.Params(nn.Params(m.Model())), optim.SGDConfig{LR: 0.1, Momentum: 0.9})
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			var views []*tensor.Tensor
			for v := 0; v < 2+local; v++ {
				s := 32
				if v >= 2 {
					s = 16
				}
				x := tensor.New(64, s, s, 3)
				for i := range x.Data {
					x.Data[i] = float32(rng.NormFloat64())
				}
				views = append(views, x)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				swavStep(m, o, Batch{Views: views, Step: i})
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/step")
		})
	}
}

func TestMeanEntropy(t *testing.T) {
	const k = 8
	uniform := make([]float32, 2*k)
	for i := range uniform {
		uniform[i] = 1.0 / k
	}
	oneHot := make([]float32, 2*k)
	oneHot[3], oneHot[k+5] = 1, 1
	scores := []float32{0.3, -0.1, 0.7, 0.2, 0, 0.5, -0.4, 0.1}
	var want float64 // entropy of softmax(scores/0.1), directly
	var z float64
	for _, s := range scores {
		z += math.Exp(float64(s) / 0.1)
	}
	for _, s := range scores {
		p := math.Exp(float64(s)/0.1) / z
		want -= p * math.Log(p)
	}
	for _, c := range []struct {
		name  string
		x     []float32
		n     int
		scale float32
		want  float64
	}{
		{"uniform distribution", uniform, 2, 1, math.Log(k)},
		{"one-hot distribution", oneHot, 2, 1, 0},
		{"equal scores", make([]float32, k), 1, 10, math.Log(k)},
		{"softmax of scores", scores, 1, 10, want},
	} {
		got := meanEntropy(c.x, c.n, k)
		if c.scale != 1 {
			got = meanSoftmaxEntropy(c.x, c.n, k, c.scale)
		}
		if math.Abs(got-c.want) > 1e-6 {
			t.Errorf("%s: entropy %v, want %v", c.name, got, c.want)
		}
	}
}

// TestSwAVReport checks the logged entropies: within (0, log K], and
// sharper codes for a smaller ε on the same batch.
func TestSwAVReport(t *testing.T) {
	codeH := map[float64]float64{}
	for _, eps := range []float64{0.05, 0.01} {
		m := newTinySwAV(t, swavOptions(func(o *SwAVConfig) { o.Epsilon = eps }), 3)
		m.Loss(swavBatch(5, 0, 2))
		r := m.Report()
		logK := math.Log(float64(m.NumPrototypes()))
		for _, name := range []string{"code_entropy", "pred_entropy"} {
			if h, ok := r[name]; !ok || !(h > 0 && h <= logK+1e-9) {
				t.Fatalf("ε %v: %s = %v (present %v), want in (0, log K = %.3f]", eps, name, h, ok, logK)
			}
		}
		codeH[eps] = r["code_entropy"]
	}
	if !(codeH[0.01] < codeH[0.05]) {
		t.Errorf("code entropy %v at ε 0.01, %v at ε 0.05: want sharper codes for the smaller ε", codeH[0.01], codeH[0.05])
	}
}
