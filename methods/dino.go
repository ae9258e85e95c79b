package methods

import (
	"flag"
	"fmt"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/loss"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// DINOConfig holds DINO's own settings (YAML key "dino").
type DINOConfig struct {
	// Prototypes is K, the output width (the paper: 65536; 1024 here, as
	// a small run cannot fill more).
	Prototypes int `yaml:"prototypes"`
	// Momentum is the teacher's EMA momentum at the first step,
	// cosine-scheduled to 1 (the paper: 0.996).
	Momentum float64 `yaml:"momentum"`
	// StudentTemp is τ_s (0.1); the teacher's τ_t rises linearly from
	// TeacherTempStart to TeacherTemp over the first TeacherWarmup of the
	// run (a fraction; the paper's ViT runs: 0.04 → 0.07 over 30 of 100
	// epochs; main_dino.py's defaults and the default here: 0.04 flat).
	StudentTemp      float64 `yaml:"student_temp"`
	TeacherTempStart float64 `yaml:"teacher_temp_start"`
	TeacherTemp      float64 `yaml:"teacher_temp"`
	TeacherWarmup    float64 `yaml:"teacher_warmup"`
	// CenterMomentum is m of the centre update c ← m·c + (1−m)·mean (0.9).
	CenterMomentum float64 `yaml:"center_momentum"`
	// CenterInit is the centre before the first step: "batch" (the
	// default) sets it to the mean of the first batch's teacher outputs,
	// "zero" starts it at 0 as the paper does. From zero, the first
	// steps' targets are the outputs' common component, the same peaked
	// distribution for every image, and the student is trained to map
	// every image to it (see the README's DINO notes).
	CenterInit string `yaml:"center_init"`
	// OutputBN puts a batch norm on the head's bottleneck, before its L2
	// normalisation (the default; the paper has none). A small ResNet's
	// bottleneck outputs of different images share one direction (cosine
	// 0.89 at initialisation on MNIST), which the centre removes from the
	// targets, leaving them almost uniform; the batch norm centres each
	// dimension over the batch, so the images start apart (cosine 0.01).
	OutputBN bool `yaml:"output_bn"`
	// GlobalCrops are the leading views the teacher sees (2); LocalCrops
	// how many of the views after them the student also sees (0: none,
	// the default, as local crops of 28–32-pixel images hurt SwAV here;
	// −1: all the augmentation makes, 6 for the swav/dino preset).
	GlobalCrops int `yaml:"global_crops"`
	LocalCrops  int `yaml:"local_crops"`
}

// Defaults sets the settings for short runs on small images.
func (c *DINOConfig) Defaults() {
	*c = DINOConfig{Prototypes: 1024, Momentum: 0.99, StudentTemp: 0.1, TeacherTempStart: 0.04,
		TeacherTemp: 0.04, TeacherWarmup: 0.3, CenterMomentum: 0.9, CenterInit: "batch", OutputBN: true, GlobalCrops: 2}
}

// Flags registers DINO's command-line flags on fs.
func (c *DINOConfig) Flags(fs *flag.FlagSet) {
	fs.IntVar(&c.Prototypes, "dino-prototypes", c.Prototypes, "dino: output width K")
	fs.Float64Var(&c.Momentum, "dino-momentum", c.Momentum, "dino: teacher EMA momentum at the first step, cosine-scheduled to 1 (the paper: 0.996)")
	fs.Float64Var(&c.StudentTemp, "dino-student-temp", c.StudentTemp, "dino: student temperature")
	fs.Float64Var(&c.TeacherTempStart, "dino-teacher-temp-start", c.TeacherTempStart, "dino: teacher temperature at the first step")
	fs.Float64Var(&c.TeacherTemp, "dino-teacher-temp", c.TeacherTemp, "dino: teacher temperature after the warm-up")
	fs.Float64Var(&c.TeacherWarmup, "dino-teacher-warmup", c.TeacherWarmup, "dino: fraction of the run over which the teacher temperature rises")
	fs.Float64Var(&c.CenterMomentum, "dino-center-momentum", c.CenterMomentum, "dino: centre EMA momentum")
	fs.StringVar(&c.CenterInit, "dino-center-init", c.CenterInit, "dino: centre before the first step: batch (the first batch's mean teacher output) or zero (the paper)")
	fs.BoolVar(&c.OutputBN, "dino-output-bn", c.OutputBN, "dino: batch norm on the head's bottleneck before its L2 normalisation (false: the paper's head)")
	fs.IntVar(&c.GlobalCrops, "dino-global-crops", c.GlobalCrops, "dino: leading global crops (seen by the teacher)")
	fs.IntVar(&c.LocalCrops, "dino-local-crops", c.LocalCrops, "dino: local crops seen by the student (0: none; -1: all the augmentation makes)")
}

// Validate reports invalid settings.
func (c *DINOConfig) Validate() error {
	switch {
	case c.Prototypes < 1:
		return fmt.Errorf("dino-prototypes: %d, want ≥ 1", c.Prototypes)
	case !(c.Momentum >= 0 && c.Momentum <= 1):
		return fmt.Errorf("dino-momentum: %v, want 0 ≤ m ≤ 1", c.Momentum)
	case !(c.StudentTemp > 0) || !(c.TeacherTemp > 0) || !(c.TeacherTempStart > 0):
		return fmt.Errorf("dino: temperatures %v, %v, %v: want > 0", c.StudentTemp, c.TeacherTempStart, c.TeacherTemp)
	case !(c.TeacherWarmup >= 0 && c.TeacherWarmup <= 1):
		return fmt.Errorf("dino-teacher-warmup: %v, want a fraction of the run in [0, 1]", c.TeacherWarmup)
	case !(c.CenterMomentum >= 0 && c.CenterMomentum < 1):
		return fmt.Errorf("dino-center-momentum: %v, want 0 ≤ m < 1", c.CenterMomentum)
	case c.CenterInit != "batch" && c.CenterInit != "zero":
		return fmt.Errorf("dino-center-init: %q, want batch or zero", c.CenterInit)
	case c.GlobalCrops < 1 || c.LocalCrops < -1:
		return fmt.Errorf("dino: %d global and %d local crops, want ≥ 1 and ≥ −1", c.GlobalCrops, c.LocalCrops)
	case c.GlobalCrops == 1 && c.LocalCrops == 0:
		return fmt.Errorf("dino: one global crop and no local crops leave no pair to distil")
	}
	return nil
}

// CropsUsed is how many of the available views DINO trains on.
func (c DINOConfig) CropsUsed(available int) int {
	if c.LocalCrops < 0 {
		return available
	}
	return min(c.GlobalCrops+c.LocalCrops, available)
}

// DINO is self-distillation with no labels (Caron et al., "Emerging
// Properties in Self-Supervised Vision Transformers", arXiv:2104.14294),
// the ResNet version. Algorithm 1:
//
//	x1, x2 = augment(x), augment(x)          global crops (+ local crops)
//	s = g_s(crops), t = g_t(global crops)     student, teacher outputs [·, K]
//	loss = H(t1, s2)/2 + H(t2, s1)/2          (over every pair, loss.DINO)
//	H(t, s): t = softmax((t − C)/τ_t) (centring, sharpening), s = log_softmax(s/τ_s)
//	update(g_s); g_t = l·g_t + (1−l)·g_s; C = m·C + (1−m)·mean(t)
//
// The head is the paper's: a 3-layer MLP (hidden cfg.ProjHidden; the
// paper 2048, with GELU, here ReLU), an L2-normalised bottleneck of
// cfg.ProjDim (the paper 256) and a weight-normalised linear layer to K
// outputs whose norm is fixed at 1 (norm_last_layer), kept here as unit
// rows renormalised after every step (nn.Prototypes). The teacher sees
// only the global crops; the student sees all of them. Two defaults
// differ from the paper so that short runs of small ResNets learn
// (DINOConfig.OutputBN and CenterInit; the paper's head and zero centre
// are configs/paper/dino.yaml): without them the student's outputs went
// uniform within 100 steps and the encoder ended below its random
// initialisation.
type DINO struct {
	cfg        Config
	opt        DINOConfig
	encoder    *models.ResNet
	head       *nn.Sequential
	prototypes *nn.Prototypes
	root       *model
	target     *target
	tEncoder   *models.ResNet
	tHead      *nn.Sequential
	tProto     *nn.Prototypes
	center     *tensor.Tensor
	inputs     []*tensor.Tensor
	pending    *tensor.Tensor // teacher outputs of the last Loss, for the centre
	tauT       float32
}

// NewDINO builds the student and teacher (a copy of the student) and a
// zero centre.
func NewDINO(cfg Config, seed uint64) (*DINO, error) {
	cfg.Defaults()
	opt := cfg.Options.DINO
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	rng := newRNG(seed)
	m := &DINO{cfg: cfg, opt: opt, center: tensor.New(opt.Prototypes)}
	var err error
	build := func() (*models.ResNet, *nn.Sequential, *nn.Prototypes, error) {
		enc, err := models.NewResNet(cfg.Encoder, rng)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("dino: %w", err)
		}
		h := cfg.ProjHidden
		head := nn.MLP(nn.MLPSpec{Dims: []int{enc.FeatureDim(), h, h, cfg.ProjDim}, OutputBN: opt.OutputBN}, rng)
		return enc, head, nn.NewPrototypes(cfg.ProjDim, opt.Prototypes, rng), nil
	}
	if m.encoder, m.head, m.prototypes, err = build(); err != nil {
		return nil, err
	}
	m.root = newModel(nn.Child{Name: "", Module: m.encoder}, nn.Child{Name: "head", Module: m.head}, nn.Child{Name: "prototypes", Module: m.prototypes})
	if m.tEncoder, m.tHead, m.tProto, err = build(); err != nil {
		return nil, err
	}
	tRoot := newModel(nn.Child{Name: "", Module: m.tEncoder}, nn.Child{Name: "head", Module: m.tHead}, nn.Child{Name: "prototypes", Module: m.tProto})
	m.target = newTarget("teacher.", m.root, tRoot, opt.Momentum, cfg.TotalSteps)
	return m, nil
}

func (m *DINO) Name() string            { return "dino" }
func (m *DINO) Model() nn.Module        { return m.root }
func (m *DINO) Encoder() *models.ResNet { return m.encoder }

// TeacherTemp is τ_t at step: linear from TeacherTempStart to TeacherTemp
// over the first TeacherWarmup·TotalSteps steps, then constant.
func (m *DINO) TeacherTemp(step int) float32 {
	w := int(m.opt.TeacherWarmup * float64(m.cfg.TotalSteps))
	if w <= 0 || step >= w {
		return float32(m.opt.TeacherTemp)
	}
	a := float64(step) / float64(w)
	return float32(m.opt.TeacherTempStart + a*(m.opt.TeacherTemp-m.opt.TeacherTempStart))
}

// forward is one network's output for a stack of equally sized crops.
func dinoForward(enc *models.ResNet, head *nn.Sequential, proto *nn.Prototypes, x *autograd.Value) *autograd.Value {
	return proto.Forward(autograd.L2Normalize(head.Forward(enc.Forward(x)), 1e-12))
}

// Loss is the DINO loss of the batch's crops: the teacher's centred,
// sharpened outputs on the global crops against the student's on every
// other crop.
func (m *DINO) Loss(b Batch) *autograd.Value {
	g := m.opt.GlobalCrops
	if len(b.Views) < g {
		panic(fmt.Sprintf("dino: %d views per image, fewer than the %d global crops", len(b.Views), g))
	}
	if local := len(b.Views) - g; m.opt.LocalCrops > local {
		panic(fmt.Sprintf("dino: %d local crops requested (--dino-local-crops) but the augmentation makes %d", m.opt.LocalCrops, local))
	}
	views := b.Views[:m.opt.CropsUsed(len(b.Views))]
	for i, v := range views {
		if v.Rank() != 4 || v.Dim(0) != views[0].Dim(0) || i < g && !tensor.EqualShape(v.Shape(), views[0].Shape()) {
			panic(fmt.Sprintf("dino: view %d has shape %v, view 0 %v: want views of B images, the %d global crops of one size", i, v.Shape(), views[0].Shape(), g))
		}
	}
	// Student: runs of equally sized crops together (multi-resolution).
	var outs []*autograd.Value
	run := 0
	for lo := 0; lo < len(views); run++ {
		hi := lo + 1
		for hi < len(views) && tensor.EqualShape(views[hi].Shape(), views[lo].Shape()) {
			hi++
		}
		if run == len(m.inputs) {
			m.inputs = append(m.inputs, nil)
		}
		m.inputs[run] = stackInto(m.inputs[run], views[lo:hi]...)
		outs = append(outs, dinoForward(m.encoder, m.head, m.prototypes, autograd.Const(m.inputs[run])))
		lo = hi
	}
	s := outs[0]
	if len(outs) > 1 {
		s = autograd.Concat(0, outs...)
	}
	// Teacher: the global crops, which lead the first run (same size).
	n := views[0].Dim(0)
	gin := m.inputs[0]
	if gin.Dim(0) != g*n {
		gin = gin.Slice(0, g*n)
	}
	t := m.target.forward(func(x *autograd.Value) *autograd.Value {
		return dinoForward(m.tEncoder, m.tHead, m.tProto, x)
	}, gin)
	m.pending = t
	if b.Step == 0 && m.opt.CenterInit == "batch" {
		loss.UpdateCenter(m.center, t, 0) // c = the first batch's mean
	}
	m.tauT = m.TeacherTemp(b.Step)
	return loss.DINO(s, t, m.center, g, float32(m.opt.StudentTemp), m.tauT)
}

// AfterStep renormalises the student's last layer, moves the teacher and
// the centre.
func (m *DINO) AfterStep(step int) {
	m.prototypes.NormalizePrototypes()
	m.target.update(step)
	if m.pending != nil {
		loss.UpdateCenter(m.center, m.pending, float32(m.opt.CenterMomentum))
		m.pending = nil
	}
}

// Report logs the teacher temperature of the last batch.
func (m *DINO) Report() map[string]float64 {
	return map[string]float64{"teacher_temp": float64(m.tauT)}
}

// State is the teacher ("teacher.*") and the centre ("center").
func (m *DINO) State() map[string]*tensor.Tensor {
	s := map[string]*tensor.Tensor{"center": m.center}
	m.target.putState(s)
	return s
}

// LoadState restores the teacher and the centre exactly.
func (m *DINO) LoadState(s map[string]*tensor.Tensor) error {
	want := map[string]bool{"center": true}
	c, ok := s["center"]
	if !ok || !tensor.SameShape(c, m.center) {
		return fmt.Errorf("dino: state has no center of shape %v", m.center.Shape())
	}
	if err := m.target.loadState("dino", s, want); err != nil {
		return err
	}
	if err := checkExtra("dino", s, want); err != nil {
		return err
	}
	copy(m.center.Data, c.Data)
	m.pending = nil
	return nil
}
