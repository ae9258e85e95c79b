package methods

import (
	"math"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// newMethods are the methods after the contrastive survey.
var newMethods = []string{"byol", "simsiam", "barlowtwins", "vicreg", "mocov3", "dino", "supcon", "supervised"}

// tinySSLConfig is a width-1/16 ResNet-18 on 8×8 RGB images with every
// method option at its default, 10 classes and a 6-step run.
func tinySSLConfig() Config {
	return Config{
		Encoder:     models.Config{Arch: "resnet18", Stem: models.StemCIFAR, InChannels: 3, Width: 0.0625},
		ProjDim:     16,
		DatasetSize: 32, NumClasses: 3, StepsPerEpoch: 4, TotalSteps: 6,
		Options: DefaultOptions(),
	}
}

// sslBatch is randomBatch with two 8×8 views (plus local 6×6 crops) and
// labels i mod 3.
func sslBatch(step, local int) Batch {
	shapes := [][3]int{{8, 8, 3}, {8, 8, 3}}
	for range local {
		shapes = append(shapes, [3]int{6, 6, 3})
	}
	b := randomBatch(step, shapes)
	for i := range b.Indices {
		b.Labels = append(b.Labels, i%3)
	}
	return b
}

// TestNewMethodsFromDefaults builds every new method from the defaults,
// runs three training steps and checks that the loss is finite, that the
// encoder trains, and that a fresh method given the networks and State
// after step 2 computes the third loss bit for bit (what resume needs).
func TestNewMethodsFromDefaults(t *testing.T) {
	for _, name := range newMethods {
		t.Run(name, func(t *testing.T) {
			a, err := New(name, tinySSLConfig(), 5)
			if err != nil {
				t.Fatal(err)
			}
			if a.Name() != name {
				t.Fatalf("Name() = %q", a.Name())
			}
			w0 := nn.Params(a.Encoder())[0].Value.Data.Clone()
			losses := bankSteps(t, a, bankSGD(t, a), 0, 2, func(s int) Batch { return sslBatch(s, 0) })
			for i, l := range losses {
				if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) {
					t.Fatalf("step %d: loss %v", i, l)
				}
			}
			if tensor.MaxAbsDiff(w0, nn.Params(a.Encoder())[0].Value.Data) == 0 {
				t.Error("the encoder did not train")
			}
			b, err := New(name, tinySSLConfig(), 99) // other weights
			if err != nil {
				t.Fatal(err)
			}
			src, dst := nn.State(a.Model()), nn.State(b.Model())
			for i, e := range src {
				if e.F32 != nil {
					copy(dst[i].F32.Data, e.F32.Data)
				} else {
					*dst[i].I64 = *e.I64
				}
			}
			st := map[string]*tensor.Tensor{}
			for k, v := range a.State() {
				st[k] = v.Clone()
			}
			if err := b.LoadState(st); err != nil {
				t.Fatal(err)
			}
			la, lb := a.Loss(sslBatch(2, 0)), b.Loss(sslBatch(2, 0))
			if la.Item() != lb.Item() {
				t.Errorf("restored method's loss %v, original %v", lb.Item(), la.Item())
			}
			autograd.Free(la)
			autograd.Free(lb)
			st["bogus"] = tensor.New(1)
			if err := b.LoadState(st); err == nil {
				t.Error("LoadState accepted an unexpected tensor")
			}
		})
	}
}

// TestBYOLLossWiring: at step 0 the target is a copy of the online
// network, so the loss is BYOL(p1, z2) + BYOL(p2, z1) with z the online
// projections of the same stacked batch.
func TestBYOLLossWiring(t *testing.T) {
	mm, err := New("byol", tinySSLConfig(), 3)
	if err != nil {
		t.Fatal(err)
	}
	m := mm.(*BYOL)
	b := sslBatch(0, 0)
	var want float32
	autograd.NoGrad(func() {
		x := stackInto(nil, b.Views[0], b.Views[1])
		z := m.projector.Forward(m.encoder.Forward(autograd.Const(x)))
		p := m.predictor.Forward(z)
		s := func(v *autograd.Value, lo int) *autograd.Value { return autograd.SliceAxis(v, 0, lo, lo+8) }
		want = autograd.Add(loss.BYOL(s(p, 0), s(z, 8)), loss.BYOL(s(p, 8), s(z, 0))).Item()
	})
	got := m.Loss(b).Item()
	if math.Abs(float64(got-want)) > 1e-5 {
		t.Errorf("loss %v, by hand %v", got, want)
	}
	if got <= 0 || got >= 8 {
		t.Errorf("loss %v outside (0, 8): two terms of 2 − 2cos", got)
	}
}

// TestSimSiamStopGradient: the projector's gradient from Loss equals
// the one of D(p1, sg(z2))/2 + D(p2, sg(z1))/2 computed by hand, and
// differs from the one without the stop-gradient.
func TestSimSiamStopGradient(t *testing.T) {
	mm, err := New("simsiam", tinySSLConfig(), 4)
	if err != nil {
		t.Fatal(err)
	}
	m := mm.(*SimSiam)
	b := sslBatch(0, 0)
	w := nn.Params(m.projector)[0].Value
	grad := func(build func() *autograd.Value) *tensor.Tensor {
		l := build()
		if v := l.Item(); v < -1 || v > 1 {
			t.Errorf("loss %v outside [−1, 1]", v)
		}
		autograd.Backward(l)
		g := w.Grad.Clone()
		for _, p := range nn.Params(m.root) {
			p.Value.ZeroGrad()
		}
		autograd.Free(l)
		return g
	}
	byHand := func(stop bool) func() *autograd.Value {
		return func() *autograd.Value {
			x := stackInto(nil, b.Views[0], b.Views[1])
			z := m.projector.Forward(m.encoder.Forward(autograd.Const(x)))
			p := m.predictor.Forward(z)
			zt := z
			if stop {
				zt = autograd.Detach(z)
			}
			s := func(v *autograd.Value, lo int) *autograd.Value { return autograd.SliceAxis(v, 0, lo, lo+8) }
			return autograd.Scale(autograd.Add(loss.NegativeCosine(s(p, 0), s(zt, 8)), loss.NegativeCosine(s(p, 8), s(zt, 0))), 0.5)
		}
	}
	got := grad(func() *autograd.Value { return m.Loss(b) })
	if d := tensor.MaxAbsDiff(got, grad(byHand(true))); d > 1e-6 {
		t.Errorf("gradient differs from the stop-gradient loss by %g", d)
	}
	if d := tensor.MaxAbsDiff(got, grad(byHand(false))); d < 1e-6 {
		t.Errorf("gradient equals the one without stop-gradient (diff %g)", d)
	}
}

// TestDINOSchedulesAndCrops: τ_t rises linearly over the first 30% of the
// run, the centre moves after a step, and local crops join the student.
func TestDINOSchedulesAndCrops(t *testing.T) {
	cfg := tinySSLConfig()
	cfg.TotalSteps = 100
	cfg.Options.DINO.LocalCrops = 2
	cfg.Options.DINO.TeacherTemp = 0.07 // the paper's ViT schedule; the default is 0.04 flat
	mm, err := New("dino", cfg, 6)
	if err != nil {
		t.Fatal(err)
	}
	m := mm.(*DINO)
	for _, c := range []struct {
		step int
		want float64
	}{{0, 0.04}, {15, 0.055}, {30, 0.07}, {99, 0.07}} {
		if got := m.TeacherTemp(c.step); math.Abs(float64(got)-c.want) > 1e-6 {
			t.Errorf("τ_t at step %d = %v, want %v", c.step, got, c.want)
		}
	}
	l := m.Loss(sslBatch(0, 2))
	if m.pending.Dim(0) != 16 {
		t.Errorf("teacher rows %d, want 2 global crops × 8", m.pending.Dim(0))
	}
	// 2 teachers × 3 other crops each = 6 pairs; the loss of each pair is
	// a cross-entropy against K = 1024 outputs, near log K at the start.
	if v := float64(l.Item()); v < 0.5*math.Log(1024) || v > 2*math.Log(1024) {
		t.Errorf("initial loss %v, want near log K = %.2f", v, math.Log(1024))
	}
	// CenterInit "batch": the centre is the first batch's mean teacher
	// output before the targets are computed.
	mean := tensor.New(1024)
	loss.UpdateCenter(mean, m.pending, 0)
	if d := tensor.MaxAbsDiff(m.center, mean); d != 0 || tensor.MaxAbsDiff(mean, tensor.New(1024)) == 0 {
		t.Errorf("centre after the first batch differs from the teacher's mean output by %g", d)
	}
	autograd.Free(l)
	before := m.center.Clone()
	m.AfterStep(0)
	if tensor.MaxAbsDiff(m.center, before) == 0 {
		t.Error("centre did not move")
	}
	// Later batches leave the centre to AfterStep.
	before = m.center.Clone()
	autograd.Free(m.Loss(sslBatch(1, 2)))
	if tensor.MaxAbsDiff(m.center, before) != 0 {
		t.Error("centre changed in Loss after step 0")
	}
	// The default head ends in a batch norm; the paper's does not, and
	// its centre starts at zero.
	if _, ok := m.head.At(m.head.Len() - 1).(*nn.BatchNorm); !ok {
		t.Errorf("default head ends in %T, want *nn.BatchNorm", m.head.At(m.head.Len()-1))
	}
	cfg.Options.DINO.OutputBN, cfg.Options.DINO.CenterInit = false, "zero"
	mp, _ := New("dino", cfg, 6)
	paper := mp.(*DINO)
	if _, ok := paper.head.At(paper.head.Len() - 1).(*nn.Linear); !ok {
		t.Errorf("paper head ends in %T, want *nn.Linear", paper.head.At(paper.head.Len()-1))
	}
	autograd.Free(paper.Loss(sslBatch(0, 2)))
	if tensor.MaxAbsDiff(paper.center, tensor.New(1024)) != 0 {
		t.Error("centre_init zero: centre moved before AfterStep")
	}
	cfg.Options.DINO.OutputBN, cfg.Options.DINO.CenterInit = true, "batch"
	cfg.Options.DINO.LocalCrops = 3
	m3, _ := New("dino", cfg, 6)
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "local crops") {
				t.Errorf("3 local crops of 2: panic %v", r)
			}
		}()
		m3.Loss(sslBatch(0, 2))
	}()
}

// TestLabelledMethodsNeedLabels: SupCon and the supervised baseline
// refuse unlabelled data at construction.
func TestLabelledMethodsNeedLabels(t *testing.T) {
	for _, name := range []string{"supcon", "supervised"} {
		cfg := tinySSLConfig()
		cfg.NumClasses = 0
		if _, err := New(name, cfg, 1); err == nil || !strings.Contains(err.Error(), "labels") {
			t.Errorf("%s without labels: error %v", name, err)
		}
	}
}

// TestNewMethodConfigsValidate rejects out-of-range settings.
func TestNewMethodConfigsValidate(t *testing.T) {
	bad := []func(*Options){
		func(o *Options) { o.BYOL.Momentum = 1.5 },
		func(o *Options) { o.SimSiam.Dim = -1 },
		func(o *Options) { o.BarlowTwins.Scale = 0 },
		func(o *Options) { o.VICReg.Variance = -1 },
		func(o *Options) { o.MoCoV3.Momentum = -0.1 },
		func(o *Options) { o.DINO.TeacherWarmup = 2 },
		func(o *Options) { o.DINO.GlobalCrops, o.DINO.LocalCrops = 1, 0 },
		func(o *Options) { o.DINO.CenterInit = "mean" },
	}
	names := []string{"byol", "simsiam", "barlowtwins", "vicreg", "mocov3", "dino", "dino", "dino"}
	for i, edit := range bad {
		cfg := tinySSLConfig()
		edit(&cfg.Options)
		if _, err := New(names[i], cfg, 1); err == nil {
			t.Errorf("case %d (%s): no error", i, names[i])
		}
	}
}
