package methods

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

func newTinyPIRL(t *testing.T, seed uint64, edit func(*PIRLConfig)) *PIRL {
	t.Helper()
	cfg := tinyBankConfig()
	if edit != nil {
		edit(&cfg.Options.PIRL)
	}
	m, err := New("pirl", cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*PIRL)
}

// pirlBatch is 8 random 12×12 images and their jigsaw strips of nine 4×4
// patches.
func pirlBatch(step int) Batch { return randomBatch(step, [][3]int{{12, 12, 3}, {36, 4, 3}}) }

// TestPIRLLossWiring recomputes f(v_I) and g(v_{I^t}) from the networks
// and checks L = λ·NCE(g) + (1−λ)·NCE(f) against the oracle with the
// batch's bank rows, the step's noise and the two log Z of the first
// batch; the bank then moves towards f.
func TestPIRLLossWiring(t *testing.T) {
	m := newTinyPIRL(t, 3, func(c *PIRLConfig) { c.Lambda = 0.3 })
	opt := bankSGD(t, m)
	for step := 0; step < 2; step++ {
		b := pirlBatch(step)
		before := m.bank.Rows.Clone()
		z := m.logZ
		l := m.Loss(b)
		if step > 0 && m.logZ != z {
			t.Fatalf("log Z changed from %v to %v: it is estimated once", z, m.logZ)
		}
		if m.logZ[0] == 0 || m.logZ[1] == 0 || m.logZ[0] == m.logZ[1] {
			t.Fatalf("log Z %v: want one estimate per term", m.logZ)
		}
		var f, g []float32
		autograd.NoGrad(func() {
			f = autograd.L2Normalize(m.projector.Forward(m.encoder.Forward(autograd.Const(b.Views[0]))), bankNormEps).Data.Data
			p := m.patchHead.Forward(m.encoder.Forward(autograd.Const(b.Views[1].Reshape(72, 4, 4, 3))))
			g = autograd.L2Normalize(m.jigsawHead.Forward(autograd.Reshape(p, 8, 9*16)), bankNormEps).Data.Data
		})
		if !closeTo(f, m.bank.staged.Data, 1e-6) {
			t.Fatal("the staged bank features are not f(v_I)")
		}
		pos, noise := gatherRows(before, b.Indices), gatherRows(before, m.noise)
		want := 0.3*nceOracle(g, pos, noise, 16, 0.07, float64(m.logZ[0]), 32) +
			0.7*nceOracle(f, pos, noise, 16, 0.07, float64(m.logZ[1]), 32)
		if got := float64(l.Item()); math.Abs(got-want) > 1e-4*want {
			t.Fatalf("step %d: loss %v, oracle %v", step, got, want)
		}
		autograd.Backward(l)
		opt.Step()
		opt.ZeroGrad()
		autograd.Free(l)
		m.AfterStep(step)
		i := b.Indices[0]
		w := make([]float32, 16)
		for j := range w {
			w[j] = 0.5*before.Data[i*16+j] + 0.5*f[j]
		}
		normalize(w)
		if !closeTo(m.bank.Rows.Data[i*16:(i+1)*16], w, 1e-6) {
			t.Fatalf("step %d: bank row %d did not move to normalise(μ·m + (1−μ)·f)", step, i)
		}
	}
}

// TestPIRLSoftmaxLoss: with the softmax loss each term is the
// cross-entropy over the positive bank row and the step's noise rows
// (InfoNCE), L = λ·InfoNCE(g) + (1−λ)·InfoNCE(f), and no Z is estimated.
func TestPIRLSoftmaxLoss(t *testing.T) {
	m := newTinyPIRL(t, 4, func(c *PIRLConfig) { c.Lambda = 0.3; c.Loss = "softmax" })
	b := pirlBatch(0)
	before := m.bank.Rows.Clone()
	l := m.Loss(b)
	defer autograd.Free(l)
	if m.logZ != [2]float32{} {
		t.Fatalf("log Z %v estimated with the softmax loss", m.logZ)
	}
	var f, g *tensor.Tensor
	autograd.NoGrad(func() {
		f = autograd.L2Normalize(m.projector.Forward(m.encoder.Forward(autograd.Const(b.Views[0]))), bankNormEps).Data.Clone()
		p := m.patchHead.Forward(m.encoder.Forward(autograd.Const(b.Views[1].Reshape(72, 4, 4, 3))))
		g = autograd.L2Normalize(m.jigsawHead.Forward(autograd.Reshape(p, 8, 9*16)), bankNormEps).Data.Clone()
	})
	pos := tensor.FromSlice(gatherRows(before, b.Indices), 8, 16)
	noise := tensor.FromSlice(gatherRows(before, m.noise), len(m.noise), 16)
	want := 0.3*infonceOracle(g, pos, noise, 0.07) + 0.7*infonceOracle(f, pos, noise, 0.07)
	if got := float64(l.Item()); math.Abs(got-want) > 1e-4*want {
		t.Fatalf("loss %v, oracle λ·InfoNCE(g) + (1−λ)·InfoNCE(f) = %v", got, want)
	}
}

// TestPIRLLambda: with λ = 1 only the jigsaw term counts, so the image
// head W_f gets no gradient; with λ = 0 the patch and jigsaw heads get
// none. The encoder gets one either way.
func TestPIRLLambda(t *testing.T) {
	grads := func(mod nn.Module) (total float64) {
		for _, p := range nn.Params(mod) {
			if p.Value.Grad != nil {
				for _, x := range p.Value.Grad.Data {
					total += math.Abs(float64(x))
				}
			}
		}
		return total
	}
	for _, lam := range []float64{0, 1} {
		m := newTinyPIRL(t, 5, func(c *PIRLConfig) { c.Lambda = lam })
		l := m.Loss(pirlBatch(0))
		autograd.Backward(l)
		img, jig, enc := grads(m.projector), grads(m.patchHead)+grads(m.jigsawHead), grads(m.encoder)
		if lam == 1 && (img != 0 || jig == 0) || lam == 0 && (jig != 0 || img == 0) || enc == 0 {
			t.Errorf("λ = %v: |grad| image head %v, jigsaw heads %v, encoder %v", lam, img, jig, enc)
		}
		autograd.Free(l)
	}
}

// TestPIRLSmoke runs 3 steps on 8 tiny images: finite positive losses and
// every network trained.
func TestPIRLSmoke(t *testing.T) {
	m := newTinyPIRL(t, 1, nil)
	before := map[string][]*tensor.Tensor{}
	mods := map[string]nn.Module{"encoder": m.encoder, "projector": m.projector, "patch_head": m.patchHead, "jigsaw_head": m.jigsawHead}
	for name, mod := range mods {
		before[name] = paramsOf(mod)
	}
	for i, l := range bankSteps(t, m, bankSGD(t, m), 0, 3, pirlBatch) {
		if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) || l <= 0 {
			t.Errorf("step %d: loss %v", i, l)
		}
	}
	for name, mod := range mods {
		if equal(paramsOf(mod)[0].Data, before[name][0].Data) {
			t.Errorf("%s did not train", name)
		}
	}
}

// TestPIRLWithPreset feeds the pirl augmentation preset's views to the
// method: the jigsaw strip has 9×9 patches for 32×32 RGB images and 8×8
// for 28×28 grayscale ones, and the loss is finite.
func TestPIRLWithPreset(t *testing.T) {
	for _, c := range []struct{ size, channels, patch int }{{32, 3, 9}, {28, 1, 8}} {
		mv, err := augment.Preset("pirl", c.size, c.channels)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		views := make([][]*augment.Image, 2)
		for i := 0; i < 8; i++ {
			img := augment.NewImage(c.size, c.size, c.channels)
			for j := range img.Pix {
				img.Pix[j] = rng.Float32()
			}
			for v, x := range mv.Views(img, rng) {
				views[v] = append(views[v], x)
			}
		}
		b := Batch{Views: []*tensor.Tensor{augment.Stack(views[0]), augment.Stack(views[1])}, Indices: []int{0, 1, 2, 3, 4, 5, 6, 7}}
		if s := b.Views[1].Shape(); s[1] != 9*c.patch || s[2] != c.patch {
			t.Fatalf("%d×%d: jigsaw view %v, want patches of %d", c.size, c.size, s, c.patch)
		}
		cfg := tinyBankConfig()
		cfg.Encoder.InChannels = c.channels
		m, err := New("pirl", cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		l := m.Loss(b)
		if v := l.Item(); math.IsNaN(float64(v)) || v <= 0 {
			t.Errorf("%d×%d: loss %v", c.size, c.size, v)
		}
		autograd.Free(l)
	}
}

func TestPIRLResumeIsExact(t *testing.T) {
	checkResumeIsExact(t, newTinyPIRL(t, 21, nil), func() Method { return newTinyPIRL(t, 21, nil) }, pirlBatch)
}

func TestPIRLLoadStateErrors(t *testing.T) {
	m := newTinyPIRL(t, 1, nil)
	s := m.State()
	s["nce_log_z"] = tensor.New(1)
	if err := m.LoadState(s); err == nil || !strings.Contains(err.Error(), "want [2]") {
		t.Errorf("one log Z: %v", err)
	}
	s = m.State()
	s["memory_bank"] = tensor.New(60000, 16)
	if err := m.LoadState(s); err == nil || !strings.HasPrefix(err.Error(), "pirl: memory bank has 60000 rows but the dataset has 32") {
		t.Errorf("bank of another dataset: %v", err)
	}
	s = m.State()
	s["nce_log_z"] = tensor.FromSlice([]float32{1, 2}, 2)
	if err := m.LoadState(s); err != nil || m.logZ != [2]float32{1, 2} {
		t.Errorf("own state: %v, log Z %v", err, m.logZ)
	}
}

func TestPIRLConfig(t *testing.T) {
	var c PIRLConfig
	c.Defaults()
	if c != (PIRLConfig{Lambda: 0.5, BankMomentum: 0.5, Loss: "softmax", BankInit: "features"}) {
		t.Fatalf("defaults %+v", c)
	}
	fs := flag.NewFlagSet("pretrain", flag.ContinueOnError)
	c.Flags(fs)
	if err := fs.Parse([]string{"--pirl-lambda", "0.25", "--pirl-negatives", "100", "--pirl-bank-momentum", "0.9", "--pirl-loss", "softmax"}); err != nil {
		t.Fatal(err)
	}
	if c != (PIRLConfig{Lambda: 0.25, Negatives: 100, BankMomentum: 0.9, Loss: "softmax", BankInit: "features"}) {
		t.Fatalf("after flags %+v", c)
	}
	for _, bad := range []PIRLConfig{{Lambda: 1.5, BankMomentum: 0.5}, {Lambda: 0.5, Negatives: -1}, {Lambda: 0.5, BankMomentum: 1}, {Lambda: 0.5, Loss: "ce"}} {
		cfg := tinyBankConfig()
		cfg.Options.PIRL = bad
		if _, err := New("pirl", cfg, 1); err == nil || !strings.HasPrefix(err.Error(), "pirl: ") {
			t.Errorf("%+v: error %v", bad, err)
		}
	}
	for n, want := range map[int]int{32: 4096, 50000: 4096, 60000: 4096, 400000: 10000, 1281167: 32000} {
		if got := PIRLNegatives(n); got != want {
			t.Errorf("PIRLNegatives(%d) = %d, want %d", n, got, want)
		}
	}
	if m := newTinyPIRL(t, 1, func(c *PIRLConfig) { c.Negatives = 0 }); m.Negatives() != 4096 {
		t.Errorf("negatives %d for 32 images, want 4096", m.Negatives())
	}
}

// ExampleNewPIRL builds PIRL for 32×32 images with the pirl augmentation
// preset and computes the loss of one batch of two images.
func ExampleNewPIRL() {
	views, _ := augment.Preset("pirl", 32, 3)
	cfg := Config{
		Encoder:     models.Config{Arch: "resnet18", Stem: models.StemCIFAR, InChannels: 3, Width: 0.0625},
		DatasetSize: 50000,
	}
	m, err := New("pirl", cfg, 1)
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var imgs, strips []*augment.Image
	for i := 0; i < 2; i++ {
		v := views.Views(augment.NewImage(32, 32, 3), rng)
		imgs, strips = append(imgs, v[0]), append(strips, v[1])
	}
	b := Batch{Views: []*tensor.Tensor{augment.Stack(imgs), augment.Stack(strips)}, Indices: []int{0, 1}}
	fmt.Println("views:", b.Views[0].Shape(), b.Views[1].Shape())
	l := m.Loss(b)
	fmt.Printf("negatives %d, log Z estimated: %v\n", m.(*PIRL).Negatives(), m.(*PIRL).LogZ()[0] != 0)
	autograd.Free(l)
	// Output:
	// views: [2 32 32 3] [2 81 9 3]
	// negatives 4096, log Z estimated: false
}
