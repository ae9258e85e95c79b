package methods

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/optim"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// tinyBankConfig is a ResNet-18 of base width 4 (32-d features) on RGB
// images, a 16-d embedding and a bank of 32 rows.
func tinyBankConfig() Config {
	cfg := Config{
		Encoder:     models.Config{Arch: "resnet18", Stem: models.StemCIFAR, InChannels: 3, Width: 0.0625},
		ProjDim:     16,
		DatasetSize: 32,
	}
	cfg.Options = DefaultOptions()
	cfg.Options.InstDisc.Negatives = 20
	cfg.Options.PIRL.Negatives = 20
	// The tests below check the papers' settings (NCE, random bank,
	// τ = 0.07) unless they say otherwise; the defaults are checked in
	// TestInstDiscConfig and TestPIRLConfig.
	cfg.Options.InstDisc.Loss, cfg.Options.InstDisc.BankInit = "nce", ""
	cfg.Options.PIRL.Loss, cfg.Options.PIRL.BankInit = "nce", ""
	cfg.Temperature = 0.07
	return cfg
}

func newTinyInstDisc(t *testing.T, seed uint64, edit func(*InstDiscConfig)) *InstDisc {
	t.Helper()
	cfg := tinyBankConfig()
	if edit != nil {
		edit(&cfg.Options.InstDisc)
	}
	m, err := New("instdisc", cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*InstDisc)
}

// bankBatch returns 8 random 8×8 images, one view each, with dataset
// indices (4·step + 3i) mod 32, so consecutive steps overlap the bank only
// partly.
func bankBatch(step int) Batch { return randomBatch(step, [][3]int{{8, 8, 3}}) }

// randomBatch returns a batch of 8 samples with one random view of each
// [H, W, C] in views.
func randomBatch(step int, views [][3]int) Batch {
	rng := rand.New(rand.NewPCG(uint64(step), 77))
	b := Batch{Step: step}
	for _, v := range views {
		x := tensor.New(8, v[0], v[1], v[2])
		for i := range x.Data {
			x.Data[i] = rng.Float32()
		}
		b.Views = append(b.Views, x)
	}
	for i := 0; i < 8; i++ {
		b.Indices = append(b.Indices, (4*step+3*i)%32)
	}
	return b
}

// bankSteps runs the training loop's step on method m: loss, backward,
// SGD step, AfterStep.
func bankSteps(t *testing.T, m Method, opt optim.Optimizer, from, steps int, batch func(step int) Batch) []float32 {
	t.Helper()
	var losses []float32
	for s := from; s < from+steps; s++ {
		l := m.Loss(batch(s))
		losses = append(losses, l.Item())
		autograd.Backward(l)
		opt.Step()
		opt.ZeroGrad()
		autograd.Free(l)
		m.AfterStep(s)
	}
	return losses
}

func bankSGD(t *testing.T, m Method) optim.Optimizer {
	t.Helper()
	opt, err := optim.NewSGD(optim.Params(nn.Params(m.Model())), optim.SGDConfig{LR: 0.1, Momentum: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// nceOracle is InstDisc's NCE (lemniscate.pytorch's NCECriterion) in
// float64 over rows of v, the bank rows pos of the batch and the noise.
func nceOracle(v, pos, noise []float32, d int, tau, logZ float64, n int) float64 {
	b, m := len(v)/d, len(noise)/d
	dot := func(x, y []float32) float64 {
		var s float64
		for j := range x {
			s += float64(x[j]) * float64(y[j])
		}
		return s
	}
	mpn := float64(m) / float64(n)
	var l float64
	for i := 0; i < b; i++ {
		vi := v[i*d : (i+1)*d]
		p := math.Exp(dot(vi, pos[i*d:(i+1)*d])/tau - logZ)
		l -= math.Log(p / (p + mpn))
		for k := 0; k < m; k++ {
			pk := math.Exp(dot(vi, noise[k*d:(k+1)*d])/tau - logZ)
			l -= math.Log(mpn / (pk + mpn))
		}
	}
	return l / float64(b)
}

func gatherRows(t *tensor.Tensor, idx []int) []float32 {
	d := t.Dim(1)
	var out []float32
	for _, i := range idx {
		out = append(out, t.Data[i*d:(i+1)*d]...)
	}
	return out
}

// TestInstDiscLossWiring checks the first two steps against the oracle:
// the positives are the batch's bank rows from before the update, the
// noise the step's draws, Z is estimated on the first batch and then
// kept, and the bank changes only in AfterStep, only at the batch's rows.
func TestInstDiscLossWiring(t *testing.T) {
	m := newTinyInstDisc(t, 3, nil)
	opt := bankSGD(t, m)
	var z0 float32
	for step := 0; step < 2; step++ {
		b := bankBatch(step)
		before := m.bank.Rows.Clone()
		l := m.Loss(b)
		v := m.bank.staged.Data // the batch's normalised embeddings
		d := m.cfg.ProjDim
		pos, noise := gatherRows(before, b.Indices), gatherRows(before, m.noise)
		if len(m.noise) != 20 {
			t.Fatalf("%d noise rows, want 20", len(m.noise))
		}
		if step == 0 {
			z0 = float32(loss.NCELogZ(tensor.FromSlice(v, 8, d), tensor.FromSlice(pos, 8, d), tensor.FromSlice(noise, 20, d), 0.07, 32))
			if m.logZ != z0 {
				t.Fatalf("log Z %v after the first batch, want its estimate %v", m.logZ, z0)
			}
		} else if m.logZ != z0 {
			t.Fatalf("log Z changed from %v to %v: it is estimated once", z0, m.logZ)
		}
		want := nceOracle(v, pos, noise, d, 0.07, float64(m.logZ), 32)
		if got := float64(l.Item()); math.Abs(got-want) > 1e-4*math.Max(1, want) {
			t.Fatalf("step %d: loss %v, oracle %v", step, got, want)
		}
		staged := append([]float32(nil), v...)
		autograd.Backward(l)
		opt.Step()
		opt.ZeroGrad()
		autograd.Free(l)
		if tensor.MaxAbsDiff(before, m.bank.Rows) != 0 {
			t.Fatal("the bank changed before AfterStep")
		}
		m.AfterStep(step)
		in := map[int]bool{}
		for k, i := range b.Indices {
			in[i] = true
			want := make([]float32, d)
			for j := range want {
				want[j] = 0.5*before.Data[i*d+j] + 0.5*staged[k*d+j]
			}
			normalize(want)
			if got := m.bank.Rows.Data[i*d : (i+1)*d]; !closeTo(got, want, 1e-6) {
				t.Fatalf("step %d: bank row %d is %v, want the EMA %v", step, i, got, want)
			}
		}
		for i := 0; i < 32; i++ {
			if !in[i] && !closeTo(m.bank.Rows.Data[i*d:(i+1)*d], before.Data[i*d:(i+1)*d], 0) {
				t.Fatalf("step %d: bank row %d is not in the batch but changed", step, i)
			}
		}
	}
}

// TestInstDiscSmoke runs 3 steps of every loss variant on 8 tiny images:
// finite positive losses and trained weights.
func TestInstDiscSmoke(t *testing.T) {
	for name, edit := range map[string]func(*InstDiscConfig){
		"nce":          nil,
		"nce+proximal": func(c *InstDiscConfig) { c.Proximal = 30 },
		"softmax":      func(c *InstDiscConfig) { c.Loss = "softmax" },
		"softmax-full": func(c *InstDiscConfig) { c.Loss, c.Negatives = "softmax", 0 },
	} {
		m := newTinyInstDisc(t, 1, edit)
		w0 := paramsOf(m.Model())
		losses := bankSteps(t, m, bankSGD(t, m), 0, 3, bankBatch)
		for i, l := range losses {
			if math.IsNaN(float64(l)) || math.IsInf(float64(l), 0) || l <= 0 {
				t.Errorf("%s step %d: loss %v", name, i, l)
			}
		}
		if equal(paramsOf(m.Model())[0].Data, w0[0].Data) {
			t.Errorf("%s: the encoder did not train", name)
		}
		if (m.logZ != 0) != (m.opt.Loss == "nce") {
			t.Errorf("%s: log Z %v", name, m.logZ)
		}
	}
}

// TestInstDiscSoftmaxFull checks the whole-bank variant against Eq. 2
// computed by hand: −log(exp(v·m_i/τ) / Σ_j exp(v·m_j/τ)).
func TestInstDiscSoftmaxFull(t *testing.T) {
	m := newTinyInstDisc(t, 2, func(c *InstDiscConfig) { c.Loss, c.Negatives = "softmax", 0 })
	b := bankBatch(0)
	l := m.Loss(b)
	d, n := m.cfg.ProjDim, 32
	v := m.bank.staged.Data
	var want float64
	for k, i := range b.Indices {
		var den, num float64
		for j := 0; j < n; j++ {
			var s float64
			for c := 0; c < d; c++ {
				s += float64(v[k*d+c]) * float64(m.bank.Rows.Data[j*d+c])
			}
			e := math.Exp(s / 0.07)
			den += e
			if j == i {
				num = e
			}
		}
		want -= math.Log(num / den)
	}
	want /= 8
	if got := float64(l.Item()); math.Abs(got-want) > 1e-4*want {
		t.Fatalf("loss %v, Eq. 2 by hand %v", got, want)
	}
	autograd.Free(l)
}

// TestInstDiscResumeIsExact checkpoints after 2 steps (weights, optimizer,
// bank and log Z under extra/), restores into a method that has trained
// on other data, and requires the third step to match the uninterrupted
// run bit for bit: loss, weights and bank.
func TestInstDiscResumeIsExact(t *testing.T) {
	a := newTinyInstDisc(t, 11, func(c *InstDiscConfig) { c.Proximal = 10 })
	checkResumeIsExact(t, a, func() Method { return newTinyInstDisc(t, 11, func(c *InstDiscConfig) { c.Proximal = 10 }) }, bankBatch)
}

func checkResumeIsExact(t *testing.T, a Method, fresh func() Method, batch func(step int) Batch) {
	t.Helper()
	optA := bankSGD(t, a)
	bankSteps(t, a, optA, 0, 2, batch)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	err := checkpoint.Save(path, &checkpoint.Checkpoint{
		Model: checkpoint.Entries(nn.State(a.Model())), Optimizer: optA.State(), Step: 2, Extra: a.State(),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := bankSteps(t, a, optA, 2, 1, batch)

	// The resumed method has the run's seed (its noise draws depend on
	// it) but has trained on something else: everything must come from
	// the checkpoint.
	b := fresh()
	bankSteps(t, b, bankSGD(t, b), 7, 1, batch)
	optB := bankSGD(t, b)
	ck, err := checkpoint.Load(path, checkpoint.Entries(nn.State(b.Model())))
	if err != nil {
		t.Fatal(err)
	}
	if err := optB.LoadState(ck.Optimizer); err != nil {
		t.Fatal(err)
	}
	if err := b.LoadState(ck.Extra); err != nil {
		t.Fatal(err)
	}
	got := bankSteps(t, b, optB, 2, 1, batch)
	if math.Float32bits(got[0]) != math.Float32bits(want[0]) {
		t.Fatalf("step 3 loss: resumed %v, uninterrupted %v", got[0], want[0])
	}
	sa, sb := a.State(), b.State()
	for name, x := range sa {
		if !equal(x.Data, sb[name].Data) {
			t.Fatalf("state %s differs after the resumed step", name)
		}
	}
	pb := paramsOf(b.Model())
	for i, p := range paramsOf(a.Model()) {
		if !equal(p.Data, pb[i].Data) {
			t.Fatalf("parameter %d differs after the resumed step", i)
		}
	}
}

func TestInstDiscLoadStateErrors(t *testing.T) {
	m := newTinyInstDisc(t, 1, nil)
	good := func() map[string]*tensor.Tensor {
		s := map[string]*tensor.Tensor{}
		for k, v := range m.State() {
			s[k] = v.Clone()
		}
		return s
	}
	for name, c := range map[string]struct {
		edit func(s map[string]*tensor.Tensor)
		want string
	}{
		"bank of another dataset": {func(s map[string]*tensor.Tensor) { s["memory_bank"] = tensor.New(50000, 16) }, "50000 rows but the dataset has 32"},
		"bank of another width":   {func(s map[string]*tensor.Tensor) { s["memory_bank"] = tensor.New(32, 128) }, "want [32, 16]"},
		"missing bank":            {func(s map[string]*tensor.Tensor) { delete(s, "memory_bank") }, "no memory bank"},
		"missing log Z":           {func(s map[string]*tensor.Tensor) { delete(s, "nce_log_z") }, "nce_log_z"},
		"two log Z":               {func(s map[string]*tensor.Tensor) { s["nce_log_z"] = tensor.New(2) }, "nce_log_z"},
		"unexpected":              {func(s map[string]*tensor.Tensor) { s["queue"] = tensor.New(3) }, "unexpected"},
	} {
		s := good()
		c.edit(s)
		err := m.LoadState(s)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "instdisc: ") {
			t.Errorf("%s: LoadState error %v, want one containing %q", name, err, c.want)
		}
	}
	s := good()
	s["nce_log_z"].Data[0] = 12.5
	if err := m.LoadState(s); err != nil || m.logZ != 12.5 {
		t.Errorf("own state: %v, log Z %v", err, m.logZ)
	}
}

func TestInstDiscConfig(t *testing.T) {
	var o Options
	o.InstDisc.Defaults()
	if o.InstDisc != (InstDiscConfig{Loss: "softmax", Negatives: 4096, BankMomentum: 0.5, BankInit: "features"}) {
		t.Fatalf("defaults %+v", o.InstDisc)
	}
	fs := flag.NewFlagSet("pretrain", flag.ContinueOnError)
	o.InstDisc.Flags(fs)
	if err := fs.Parse([]string{"--loss", "nce", "--instdisc-negatives", "100", "--instdisc-proximal", "30", "--instdisc-bank-momentum", "0.25", "--instdisc-bank-init", "random"}); err != nil {
		t.Fatal(err)
	}
	if o.InstDisc != (InstDiscConfig{Loss: "nce", Negatives: 100, BankMomentum: 0.25, Proximal: 30, BankInit: "random"}) {
		t.Fatalf("after flags %+v", o.InstDisc)
	}
	for _, bad := range []InstDiscConfig{
		{Loss: "infonce", Negatives: 1, BankMomentum: 0.5},
		{Loss: "nce", Negatives: 0, BankMomentum: 0.5},
		{Loss: "nce", Negatives: -1, BankMomentum: 0.5},
		{Loss: "nce", Negatives: 1, BankMomentum: 1},
		{Loss: "nce", Negatives: 1, BankMomentum: 0.5, Proximal: -1},
	} {
		cfg := tinyBankConfig()
		cfg.Options.InstDisc = bad
		if _, err := New("instdisc", cfg, 1); err == nil || !strings.HasPrefix(err.Error(), "instdisc: ") {
			t.Errorf("%+v: error %v", bad, err)
		}
	}
	cfg := tinyBankConfig()
	cfg.DatasetSize = 0
	if _, err := New("instdisc", cfg, 1); err == nil || !strings.Contains(err.Error(), "stable sample indices") {
		t.Errorf("dataset size 0: error %v", err)
	}
}

// TestInstDiscEmbedAndBankKNN: Embed gives unit rows in evaluation mode
// (the same rows for a batch as for its halves) and leaves the networks
// in training mode; BankKNN of the bank's own rows is perfect.
func TestInstDiscEmbedAndBankKNN(t *testing.T) {
	m := newTinyInstDisc(t, 4, nil)
	bankSteps(t, m, bankSGD(t, m), 0, 2, bankBatch) // BN running statistics
	x := bankBatch(9).Views[0]
	e := m.Embed(x)
	if s := e.Shape(); s[0] != 8 || s[1] != 16 {
		t.Fatalf("Embed shape %v", s)
	}
	half := m.Embed(x.Slice(0, 4))
	if !closeTo(half.Data, e.Data[:4*16], 1e-5) {
		t.Fatal("Embed depends on the batch: not in evaluation mode")
	}
	var training bool
	nn.Walk(m.Model(), func(_ string, mod nn.Module) {
		if bn, ok := mod.(*nn.BatchNorm); ok {
			training = bn.Training
		}
	})
	if !training {
		t.Fatal("Embed left the model in evaluation mode")
	}
	labels := make([]int, 32)
	for i := range labels {
		labels[i] = i % 4
	}
	var ev BankEvaluator = m
	top1, _, err := ev.BankKNN(m.bank.Rows, labels, labels, KNNConfig{K: 1, Temperature: 0.07, NumClasses: 4})
	if err != nil || top1 != 1 {
		t.Fatalf("kNN of the bank against itself: top-1 %v, %v", top1, err)
	}
}

// ExampleNewInstDisc builds InstDisc for CIFAR-10 (a bank of 50000 rows)
// and computes the loss of one batch.
func ExampleNewInstDisc() {
	cfg := Config{
		Encoder:     models.Config{Arch: "resnet18", Stem: models.StemCIFAR, InChannels: 3, Width: 0.0625},
		DatasetSize: 50000,
	}
	m, err := New("instdisc", cfg, 1)
	if err != nil {
		panic(err)
	}
	id := m.(*InstDisc)
	fmt.Printf("bank %v, μ = %v\n", id.Bank().Rows.Shape(), id.Bank().Momentum)
	x := tensor.Full(0.5, 4, 8, 8, 3)
	l := m.Loss(Batch{Views: []*tensor.Tensor{x}, Indices: []int{0, 1, 2, 3}, Step: 0})
	fmt.Printf("loss %s, bank init %s, log Z estimated: %v\n", id.opt.Loss, id.BankInit(), id.LogZ() != 0)
	autograd.Free(l)
	m.AfterStep(0)
	// Output:
	// bank [50000 128], μ = 0.5
	// loss softmax, bank init features, log Z estimated: false
}

// TestBankInitFromFeatures: InitEmbed computes the training-mode
// embeddings (equal to the features Loss stages for the same batch) and
// leaves the running statistics untouched; InitBank stores normalised
// rows; a wrong shape and an unknown setting are errors.
func TestBankInitFromFeatures(t *testing.T) {
	m := newTinyInstDisc(t, 9, func(c *InstDiscConfig) { c.BankInit = "features" })
	if m.BankInit() != "features" {
		t.Fatalf("BankInit() = %q", m.BankInit())
	}
	before := map[string][]float32{}
	for _, e := range nn.State(m.root) {
		if e.F32 != nil {
			before[e.Name] = append([]float32(nil), e.F32.Data...)
		}
	}
	b := randomBatch(0, [][3]int{{12, 12, 3}})
	emb := m.InitEmbed(b.Views[0])
	for _, e := range nn.State(m.root) {
		if e.F32 != nil && !equal(before[e.Name], e.F32.Data) {
			t.Fatalf("InitEmbed changed %s", e.Name)
		}
	}
	l := m.Loss(b) // stages the training-mode features of the same batch
	if !closeTo(emb.Data, m.bank.staged.Data, 1e-5) {
		t.Fatal("InitEmbed differs from the features the training step computes")
	}
	autograd.Free(l)

	rows := tensor.New(32, 16)
	for i := range rows.Data {
		rows.Data[i] = float32(i%7) - 3
	}
	if err := m.InitBank(rows); err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), rows.Data[16:32]...)
	normalize(want)
	if !closeTo(m.bank.Rows.Data[16:32], want, 1e-6) {
		t.Fatalf("bank row 1 = %v, want normalise(%v)", m.bank.Rows.Data[16:32], rows.Data[16:32])
	}
	if err := m.InitBank(tensor.New(31, 16)); err == nil {
		t.Error("InitBank with 31 rows for a 32-row bank: want an error")
	}
	cfg := tinyBankConfig()
	cfg.Options.InstDisc.BankInit = "zeros"
	if _, err := New("instdisc", cfg, 1); err == nil || !strings.Contains(err.Error(), "bank init") {
		t.Errorf("bank init zeros: error %v", err)
	}
	if p := newTinyPIRL(t, 1, func(c *PIRLConfig) { c.BankInit = "features" }); p.BankInit() != "features" {
		t.Errorf("PIRL BankInit() = %q", p.BankInit())
	}
	if p := newTinyPIRL(t, 1, func(c *PIRLConfig) { c.BankInit = "" }); p.BankInit() != "random" {
		t.Errorf("PIRL BankInit() with \"\" = %q, want random", p.BankInit())
	}
}
