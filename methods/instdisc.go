package methods

import (
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// InstDisc is non-parametric instance discrimination, the memory-bank
// architecture (Wu et al., "Unsupervised Feature Learning via
// Non-Parametric Instance Discrimination", arXiv:1805.01978;
// zhirongw/lemniscate.pytorch). Every image is its own class, and a memory
// bank M [N, 128] keeps one embedding per training image in place of the
// class weights. For a batch of images x_i with dataset indices i:
//
//	v_i = normalise(W·f(x_i))                 encoder f, linear 128-d head W
//	draw m noise rows n_k uniformly from M    (shared by the batch)
//	L = NCE(v_i; m_i, n_1..n_m)               Eq. 5–7, τ = 0.07, Z fixed
//	    [+ λ‖v_i − m_i‖², the proximal term of §3.4]
//	after the optimizer step: m_i ← normalise(μ·m_i + (1−μ)·v_i)
//
// Z is estimated once, by Monte Carlo from the first batch (N times the
// mean of exp(s/τ) over its scores), and then kept fixed, as in the paper;
// it is saved with the bank. The "softmax" loss replaces NCE by the
// cross-entropy over the positive and the m negatives (InfoNCE with bank
// negatives, "NPID++" in PIRL's reimplementation), or over the whole bank
// when Negatives is 0 (the paper's Eq. 2).
//
// The positive m_i is the bank row from before this step's update: the
// batch's features are staged during Loss and folded into the bank in
// AfterStep. Noise indices are drawn from an RNG seeded with (seed, step),
// so a resumed run draws the same noise.
type InstDisc struct {
	bankMethod
	cfg   Config
	opt   InstDiscConfig
	logZ  float32 // log Z; 0 until estimated
	seed  uint64
	noise []int
}

// NewInstDisc builds the encoder, its linear projection to cfg.ProjDim
// (128) and a bank of cfg.DatasetSize random unit rows; τ = 0.07 by
// default. cfg.Options.InstDisc takes the paper defaults when left zero.
func NewInstDisc(cfg Config, seed uint64) (*InstDisc, error) {
	opt := cfg.Options.InstDisc
	if opt == (InstDiscConfig{}) {
		opt.Defaults()
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if cfg.DatasetSize < 1 {
		return nil, fmt.Errorf("instdisc: the memory bank needs the training-set size and stable sample indices 0..N-1 (dataset size %d)", cfg.DatasetSize)
	}
	if cfg.Temperature == 0 {
		cfg.Temperature = bankTemperature(opt.Loss)
	}
	rng := newRNG(seed)
	enc, err := models.NewResNet(cfg.Encoder, rng)
	if err != nil {
		return nil, fmt.Errorf("instdisc: %w", err)
	}
	proj := nn.LinearProjection(enc.FeatureDim(), cfg.ProjDim, rng)
	m := &InstDisc{cfg: cfg, opt: opt, seed: seed, bankMethod: bankMethod{encoder: enc, projector: proj, start: opt.BankInit,
		bank: NewBank(cfg.DatasetSize, cfg.ProjDim, float32(opt.BankMomentum), rand.New(rand.NewPCG(seed, bankStream)))}}
	m.root = newModel(nn.Child{Name: "", Module: enc}, nn.Child{Name: "projector", Module: proj})
	return m, nil
}

func (m *InstDisc) Name() string { return "instdisc" }

// LogZ returns log Z of the NCE loss, 0 before the first batch.
func (m *InstDisc) LogZ() float32 { return m.logZ }

// Loss returns the loss of one batch of single views: b.Views[0] [B, H,
// W, C] with dataset indices b.Indices.
func (m *InstDisc) Loss(b Batch) *autograd.Value {
	if len(b.Views) != 1 {
		panic(fmt.Sprintf("instdisc: want 1 view per image, got %d", len(b.Views)))
	}
	x := b.Views[0]
	if len(b.Indices) != x.Dim(0) {
		panic(fmt.Sprintf("instdisc: %d sample indices for a batch of %d", len(b.Indices), x.Dim(0)))
	}
	tau := m.cfg.Temperature
	v := autograd.L2Normalize(m.embedding(autograd.Const(x)), bankNormEps) // [B, 128]
	var l *autograd.Value
	var pos *autograd.Value
	if m.opt.Loss == "softmax" && m.opt.Negatives == 0 {
		m.bank.check("Lookup", b.Indices)
		l = loss.NonParametricSoftmax(v, autograd.Const(m.bank.Rows), b.Indices, tau)
	} else {
		pos = m.bank.Lookup(b.Indices) // [B, 128]
		m.noise = m.bank.Sample(m.opt.Negatives, noiseRNG(m.seed, b.Step), m.noise)
		noise := m.bank.Lookup(m.noise) // [m, 128]
		l = m.bankTerm(m.opt.Loss, v, pos, noise, tau, &m.logZ, m.bank.Len())
	}
	if m.opt.Proximal > 0 {
		if pos == nil {
			pos = m.bank.Lookup(b.Indices)
		}
		l = autograd.Add(l, loss.Proximal(v, pos, float32(m.opt.Proximal)))
	}
	m.bank.Stage(b.Indices, v.Data)
	return l
}

// State is the bank ("memory_bank" [N, 128]) and log Z ("nce_log_z" [1],
// 0 before the first batch).
func (m *InstDisc) State() map[string]*tensor.Tensor {
	return map[string]*tensor.Tensor{
		"memory_bank": m.bank.Rows,
		"nce_log_z":   tensor.FromSlice([]float32{m.logZ}, 1),
	}
}

// LoadState restores the bank and log Z exactly. A bank whose size does
// not match the dataset is an error.
func (m *InstDisc) LoadState(s map[string]*tensor.Tensor) error {
	z, err := loadBankState("instdisc", m.bank, s, 1)
	if err != nil {
		return err
	}
	m.logZ = z[0]
	return nil
}
