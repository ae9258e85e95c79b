package methods

import (
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Batch is one loader batch as a method sees it.
type Batch struct {
	// Views holds one NHWC tensor [B, H, W, C] per view index; views of
	// the same index have the same size (multi-crop uses several indices).
	Views []*tensor.Tensor
	// Indices are the dataset indices of the B samples (memory banks).
	Indices []int
	// Labels are the classes of the B samples, -1 when unlabelled (read
	// only by the supervised methods, SupCon and the cross-entropy
	// baseline).
	Labels []int
	// Step is the number of optimizer steps taken before this batch.
	// Randomness inside a method (noise samples, BN shuffles) is drawn
	// from an RNG seeded by (seed, Step), so a resumed run repeats it
	// exactly without saving generator state.
	Step int
	// Epoch is the epoch of the batch's samples (schedules such as SwAV's
	// queue start and prototype freezing).
	Epoch int
}

// Method is a self-supervised method.
//
// A training step is: loss := m.Loss(batch); backward; optimizer step on
// nn.Params(m.Model()); m.AfterStep(step). Everything the step needs to
// resume exactly lives in nn.State(m.Model()) plus m.State().
type Method interface {
	// Name is the registry name ("simclr").
	Name() string
	// Loss builds the graph of the method's loss for one batch.
	Loss(b Batch) *autograd.Value
	// AfterStep updates the method's non-gradient state after the
	// optimizer step numbered step (0-based): EMA targets, queues, banks.
	AfterStep(step int)
	// Model is the root of the trained networks. Its child named "" is the
	// encoder, so the encoder's tensors keep their torchvision names in
	// checkpoints; heads are children such as "projector".
	Model() nn.Module
	// Encoder is the backbone evaluated downstream.
	Encoder() *models.ResNet
	// State is the non-module state to checkpoint (queues, banks,
	// momentum encoders), by name; LoadState restores it exactly.
	State() map[string]*tensor.Tensor
	LoadState(map[string]*tensor.Tensor) error
}

// Reporter is a Method with statistics of its last batch worth logging
// next to the loss, by name (SwAV: the entropy of its codes and of its
// predictions). The training loop writes them into metrics.jsonl.
type Reporter interface {
	Report() map[string]float64
}

// Config holds the settings shared by the methods plus each method's own.
type Config struct {
	Encoder     models.Config
	ProjHidden  int     // projection MLP hidden width (0: the encoder's feature width)
	ProjDim     int     // embedding width (128)
	ProjBN      bool    // batch norm in the projection MLP's hidden layer
	Temperature float32 // softmax temperature τ (method default when 0)
	// DatasetSize is the number of training samples (memory banks, queue
	// sizing); NumClasses is 0 when unknown.
	DatasetSize int
	NumClasses  int
	// StepsPerEpoch lets methods express schedules in epochs.
	StepsPerEpoch int
	// TotalSteps is the number of optimizer steps of the run (0: unknown),
	// for schedules over the run: BYOL's momentum, DINO's teacher
	// temperature.
	TotalSteps int
	// Options holds the method-specific settings.
	Options Options
}

// Defaults fills zero fields with the shared defaults.
func (c *Config) Defaults() {
	c.Encoder.Defaults()
	if c.ProjDim == 0 {
		c.ProjDim = 128
	}
	if c.ProjHidden == 0 {
		c.ProjHidden = c.Encoder.FeatureDim()
	}
}

// Validate reports configuration errors before any work starts.
func (c *Config) Validate() error {
	if err := c.Encoder.Validate(); err != nil {
		return err
	}
	if c.ProjDim <= 0 || c.ProjHidden <= 0 {
		return fmt.Errorf("projection dims must be positive (hidden %d, out %d)", c.ProjHidden, c.ProjDim)
	}
	if c.Temperature < 0 {
		return fmt.Errorf("temperature must be positive, got %g", c.Temperature)
	}
	return nil
}

// model is a Method's root module: the encoder (unnamed, so its tensors
// keep torchvision names) and named heads.
type model struct {
	children []nn.Child
}

func (m *model) Forward(x *autograd.Value) *autograd.Value {
	panic("methods: the root model has no Forward of its own; use the method's Loss")
}
func (m *model) Tensors() []nn.Var    { return nil }
func (m *model) Children() []nn.Child { return m.children }
func newModel(c ...nn.Child) *model   { return &model{children: c} }
func newRNG(seed uint64) *rand.Rand   { return rand.New(rand.NewPCG(seed, 0x5eed)) }
