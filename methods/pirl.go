package methods

import (
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// PIRL is Pretext-Invariant Representation Learning (Misra & van der
// Maaten, "Self-Supervised Learning of Pretext-Invariant Representations",
// arXiv:1912.01991), the memory-bank architecture with a jigsaw pretext:
// the representation of an image should not change when the image is cut
// into shuffled patches. For a batch of images I with dataset indices:
//
//	f(v_I)     = normalise(W_f·φ(v_I))                  the image view
//	g(v_{I^t}) = normalise(W_g·[W_p·φ(p_1); …; W_p·φ(p_9)])
//	             the 9 jigsaw patches p_k, each through the shared encoder
//	             φ and a linear 128-d layer W_p, concatenated in their
//	             (shuffled) order and mapped to 128-d by W_g
//	L = λ·L_NCE(m_I, g(v_{I^t})) + (1−λ)·L_NCE(m_I, f(v_I))   (Eq. 5, λ = 0.5)
//	after the optimizer step: m_I ← normalise(μ·m_I + (1−μ)·f(v_I))
//
// where L_NCE is InstDisc's NCE loss (loss.NCE; with the "softmax" loss,
// the cross-entropy loss.InfoNCE over the positive and the noise) with
// τ = 0.07, the
// positive m_I and noise rows drawn uniformly from the bank (the paper
// uses 32000; PIRLNegatives sizes the default to the dataset). Each term
// has its own normalising constant Z, estimated once from the first batch
// as in InstDisc and VISSL's NCE loss, and saved with the bank. Both terms
// share the noise rows.
//
// The views come from augment.PIRL (the "pirl" preset): view 0 is the
// image, view 1 a jigsaw strip, the 9 patches stacked vertically, which
// reshapes to a batch of 9B patches without a copy. The patch sides are
// the preset's: 64 pixels in 85-pixel cells of a 255×255 crop for
// 224×224 images (the paper's sizes); for small images the crop is the
// view size rounded up to a multiple of 3 and each patch three quarters of
// its cell, so 9×9 patches in 11-pixel cells for 32×32 (CIFAR) and 8×8 in
// 10-pixel cells for 28×28 (MNIST). A patch a quarter smaller than its
// cell keeps the paper's ratio (64/85) and the random offset inside the
// cell that stops the network from matching patch borders, while 8–9
// pixels still leave the CIFAR-stem ResNet a 2×2 map before its last
// pooling.
type PIRL struct {
	bankMethod // encoder, image head W_f, bank
	cfg        Config
	opt        PIRLConfig
	patchHead  *nn.Sequential // W_p
	jigsawHead *nn.Sequential // W_g
	negatives  int
	logZ       [2]float32 // log Z of the jigsaw and the image terms; 0 until estimated
	seed       uint64
	noise      []int
}

// pirlGrid is the jigsaw grid: 3×3 patches.
const pirlGrid = 3

// NewPIRL builds the encoder, the image head W_f, the patch head W_p, the
// jigsaw head W_g and a bank of cfg.DatasetSize random unit rows; τ = 0.07
// by default. cfg.Options.PIRL takes the paper defaults when left zero.
func NewPIRL(cfg Config, seed uint64) (*PIRL, error) {
	opt := cfg.Options.PIRL
	if opt == (PIRLConfig{}) {
		opt.Defaults()
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if cfg.DatasetSize < 1 {
		return nil, fmt.Errorf("pirl: the memory bank needs the training-set size and stable sample indices 0..N-1 (dataset size %d)", cfg.DatasetSize)
	}
	if cfg.Temperature == 0 {
		cfg.Temperature = bankTemperature(opt.Loss)
	}
	rng := newRNG(seed)
	enc, err := models.NewResNet(cfg.Encoder, rng)
	if err != nil {
		return nil, fmt.Errorf("pirl: %w", err)
	}
	d := enc.FeatureDim()
	m := &PIRL{cfg: cfg, opt: opt, seed: seed,
		bankMethod: bankMethod{encoder: enc, projector: nn.LinearProjection(d, cfg.ProjDim, rng), start: opt.BankInit,
			bank: NewBank(cfg.DatasetSize, cfg.ProjDim, float32(opt.BankMomentum), rand.New(rand.NewPCG(seed, bankStream)))},
		patchHead:  nn.LinearProjection(d, cfg.ProjDim, rng),
		jigsawHead: nn.LinearProjection(pirlGrid*pirlGrid*cfg.ProjDim, cfg.ProjDim, rng),
		negatives:  opt.Negatives,
	}
	if m.negatives == 0 {
		m.negatives = PIRLNegatives(cfg.DatasetSize)
	}
	m.root = newModel(nn.Child{Name: "", Module: enc}, nn.Child{Name: "projector", Module: m.projector},
		nn.Child{Name: "patch_head", Module: m.patchHead}, nn.Child{Name: "jigsaw_head", Module: m.jigsawHead})
	return m, nil
}

func (m *PIRL) Name() string { return "pirl" }

// Negatives is the number of noise rows drawn per step.
func (m *PIRL) Negatives() int { return m.negatives }

// LogZ returns log Z of the jigsaw and the image NCE terms, 0 before the
// first batch.
func (m *PIRL) LogZ() [2]float32 { return m.logZ }

// Loss returns PIRL's loss of one batch: b.Views[0] the images [B, H, W,
// C], b.Views[1] their jigsaw strips [B, 9P, P, C].
func (m *PIRL) Loss(b Batch) *autograd.Value {
	if len(b.Views) != 2 {
		panic(fmt.Sprintf("pirl: want 2 views per image (image and jigsaw strip), got %d", len(b.Views)))
	}
	img, strip := b.Views[0], b.Views[1]
	n := img.Dim(0)
	s := strip.Shape()
	if len(s) != 4 || s[0] != n || s[1] != pirlGrid*pirlGrid*s[2] || s[3] != img.Dim(3) {
		panic(fmt.Sprintf("pirl: jigsaw view %v for images %v, want [B, 9P, P, C] (augment preset pirl)", s, img.Shape()))
	}
	if len(b.Indices) != n {
		panic(fmt.Sprintf("pirl: %d sample indices for a batch of %d", len(b.Indices), n))
	}
	tau := m.cfg.Temperature
	d := m.cfg.ProjDim
	f := autograd.L2Normalize(m.embedding(autograd.Const(img)), bankNormEps) // [B, 128]

	// The strip's memory is the patch batch [9B, P, P, C], patch k of
	// image i at row 9i+k: a reshape, no copy.
	patches := autograd.Const(strip.Reshape(n*pirlGrid*pirlGrid, s[2], s[2], s[3]))
	gp := m.patchHead.Forward(m.encoder.Forward(patches))                   // [9B, 128]
	g := m.jigsawHead.Forward(autograd.Reshape(gp, n, pirlGrid*pirlGrid*d)) // [B, 128]
	g = autograd.L2Normalize(g, bankNormEps)

	pos := m.bank.Lookup(b.Indices) // [B, 128]
	m.noise = m.bank.Sample(m.negatives, noiseRNG(m.seed, b.Step), m.noise)
	noise := m.bank.Lookup(m.noise) // [m, 128]
	lJig := m.bankTerm(m.opt.Loss, g, pos, noise, tau, &m.logZ[0], m.bank.Len())
	lImg := m.bankTerm(m.opt.Loss, f, pos, noise, tau, &m.logZ[1], m.bank.Len())
	lam := float32(m.opt.Lambda)
	m.bank.Stage(b.Indices, f.Data)
	return autograd.Add(autograd.Scale(lJig, lam), autograd.Scale(lImg, 1-lam))
}

// State is the bank ("memory_bank" [N, 128]) and the two log Z
// ("nce_log_z" [2]: jigsaw term, image term; 0 before the first batch).
func (m *PIRL) State() map[string]*tensor.Tensor {
	return map[string]*tensor.Tensor{
		"memory_bank": m.bank.Rows,
		"nce_log_z":   tensor.FromSlice([]float32{m.logZ[0], m.logZ[1]}, 2),
	}
}

// LoadState restores the bank and log Z exactly. A bank whose size does
// not match the dataset is an error.
func (m *PIRL) LoadState(s map[string]*tensor.Tensor) error {
	z, err := loadBankState("pirl", m.bank, s, 2)
	if err != nil {
		return err
	}
	m.logZ = [2]float32{z[0], z[1]}
	return nil
}
