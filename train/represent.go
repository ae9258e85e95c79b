package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/eval"
	"github.com/contrastive-ssl/contrastive/export"
	"github.com/contrastive-ssl/contrastive/index"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/methods"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Source names where an encoder comes from: a run (Checkpoint, a run
// directory or checkpoint file) or torchvision-format weights (Init, as
// `contrastive export --format torchvision` or tools/export_torchvision.py
// write them). Exactly one is set.
type Source struct {
	Checkpoint string `json:"checkpoint,omitempty"`
	Init       string `json:"init,omitempty"`
}

// Check reports a Source with neither or both set.
func (s Source) Check() error {
	if (s.Checkpoint == "") == (s.Init == "") {
		return fmt.Errorf("give exactly one of --checkpoint (a run) and --init (torchvision-format weights)")
	}
	return nil
}

// Encoder is a loaded encoder with the normalisation its inputs get (nil
// Mean: none) and, for a run, its config.
type Encoder struct {
	*models.ResNet
	Mean, Std []float32
	Run       *Config // nil for --init weights
	file      string  // the checkpoint file (runs)
}

// Load builds the encoder and reads its weights; inChannels is the data's
// channel count. A run's inputs are normalised like its augmentation
// preset; --init weights use the normalisation recorded in the file, else
// ImageNet's for RGB (torchvision's pretrained models) and none for gray.
func (s Source) Load(inChannels int) (*Encoder, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	if s.Init != "" {
		enc, meta, err := export.ReadTorchvision(s.Init)
		if err != nil {
			return nil, err
		}
		if c := enc.Config().InChannels; c != inChannels {
			return nil, fmt.Errorf("init %s: the encoder takes %d input channels, the data has %d", s.Init, c, inChannels)
		}
		e := &Encoder{ResNet: enc, Mean: meta.Mean, Std: meta.Std}
		if e.Mean == nil && inChannels == 3 {
			e.Mean, e.Std = augment.ImageNetMean, augment.ImageNetStd
		}
		return e, nil
	}
	enc, cfg, err := LoadEncoder(s.Checkpoint, inChannels)
	if err != nil {
		return nil, err
	}
	mv, err := augment.Preset(cfg.AugmentPreset(), 32, inChannels)
	if err != nil {
		return nil, err
	}
	return &Encoder{ResNet: enc, Mean: mv.Mean, Std: mv.Std, Run: &cfg, file: checkpointFile(s.Checkpoint)}, nil
}

func checkpointFile(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, CheckpointFile)
	}
	return path
}

// EvalSize is the side at which the encoder evaluates ds: the run's
// training image size when the checkpoint records one, else the side of
// fixed-size data, else 224 (ImageSizeFor).
func (e *Encoder) EvalSize(ds data.Dataset) int {
	h, w, _ := ds.Shape()
	configured := 0
	if e.Run != nil {
		configured = e.Run.ImageSize
	}
	return ImageSizeFor(configured, h, w)
}

// Prep returns the evaluation transform for size×size inputs:
// augment.EvalView (torchvision's resize of the shorter side and centre
// crop) followed by the encoder's normalisation.
func (e *Encoder) Prep(size int) func(*augment.Image) *augment.Image {
	return EvalPrep(size, e.Mean, e.Std)
}

// Embedder maps a batch x [B, H, W, C] to B rows of Dim values.
type Embedder struct {
	Dim     int
	Forward func(x *tensor.Tensor, out []float32)
}

// Embedder returns the feature map of layer: "layer1".."layer4" (the
// average-pooled stage output), "pool" (or "") the encoder's feature, or
// "head", the output of the run's projection head (runs only). The
// networks run in evaluation mode; callers must not use the encoder for
// training afterwards without nn.SetTraining(enc, true).
func (e *Encoder) Embedder(layer string) (Embedder, error) {
	nn.SetTraining(e.ResNet, false)
	if layer != "head" {
		if err := eval.CheckLayer(layer); err != nil {
			return Embedder{}, err
		}
		inf := models.NewInference(e.ResNet) // batch norm folded: see eval.Features
		return Embedder{Dim: eval.LayerDim(e.ResNet, layer), Forward: func(x *tensor.Tensor, out []float32) {
			eval.PooledAt(inf, x, layer, out)
		}}, nil
	}
	if e.Run == nil {
		return Embedder{}, fmt.Errorf("--layer head needs a run (--checkpoint): torchvision weights have no projection head")
	}
	head, dim, err := e.loadHead()
	if err != nil {
		return Embedder{}, err
	}
	inf := models.NewInference(e.ResNet)
	var feats *tensor.Tensor
	return Embedder{Dim: dim, Forward: func(x *tensor.Tensor, out []float32) {
		n := x.Dim(0)
		if feats == nil || feats.Dim(0) != n {
			feats = tensor.New(n, inf.FeatureDim())
		}
		inf.Forward(x, feats.Data)
		autograd.Inference(func(func(*autograd.Value)) {
			copy(out, head.Forward(autograd.Const(feats)).Data.Data)
		})
	}}, nil
}

// loadHead rebuilds the run's method, loads every model tensor of the
// checkpoint into it and returns its projection head (the child named
// "projector" or "projection_head"), in evaluation mode, with its output
// width.
func (e *Encoder) loadHead() (nn.Module, int, error) {
	cfg := *e.Run
	mc := methods.Config{
		Encoder:     e.ResNet.Config(),
		ProjHidden:  cfg.ProjHidden,
		ProjDim:     cfg.ProjDim,
		ProjBN:      cfg.ProjBN,
		Temperature: float32(cfg.Temperature),
		DatasetSize: 1, StepsPerEpoch: 1,
		Options: cfg.Methods,
	}
	m, err := methods.New(cfg.Method, mc, cfg.Seed)
	if err != nil {
		return nil, 0, fmt.Errorf("head of %s: %w", e.file, err)
	}
	if _, err := checkpoint.LoadModel(e.file, checkpoint.Entries(nn.State(m.Model())), checkpoint.LoadOptions{IgnoreUnexpected: true}); err != nil {
		return nil, 0, fmt.Errorf("head: %w", err)
	}
	for _, c := range m.Model().Children() {
		if c.Name == "projector" || c.Name == "projection_head" {
			// The encoder loaded with the head is the same network as
			// e.ResNet (same checkpoint); use ours so both stay in step.
			nn.SetTraining(c.Module, false)
			probe := autograd.Const(tensor.New(1, e.ResNet.FeatureDim()))
			var dim int
			autograd.Inference(func(func(*autograd.Value)) { dim = c.Module.Forward(probe).Data.Dim(1) })
			return c.Module, dim, nil
		}
	}
	return nil, 0, fmt.Errorf("head: the %s model of %s has no projection head", cfg.Method, e.file)
}

// EmbedConfig configures Embed.
type EmbedConfig struct {
	Source
	Data      string // dataset reference PATH[:split]
	Out       string // index directory
	Layer     string // layer1..layer4, pool (default) or head
	Normalize bool   // store L2-normalised rows
	Batch     int    // images per forward pass (default 256)
	SkipBad   bool
}

// EmbedInfo is written to DIR/embed.json beside the index: what produced
// it, so that `neighbors` can reopen the images and embed new queries the
// same way.
type EmbedInfo struct {
	Source
	Data       string   `json:"data"`
	Layer      string   `json:"layer"`
	Normalized bool     `json:"normalized"`
	Size       int      `json:"size"`
	Channels   int      `json:"channels"`
	N          int      `json:"n"`
	Dim        int      `json:"dim"`
	Classes    []string `json:"classes,omitempty"`
	Seconds    float64  `json:"seconds"`
}

// EmbedInfoFile is the name of the EmbedInfo file in an index directory.
const EmbedInfoFile = "embed.json"

// ReadEmbedInfo reads DIR/embed.json.
func ReadEmbedInfo(dir string) (EmbedInfo, error) {
	var info EmbedInfo
	b, err := os.ReadFile(filepath.Join(dir, EmbedInfoFile))
	if err != nil {
		return info, fmt.Errorf("index %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("index %s: %s: %w", dir, EmbedInfoFile, err)
	}
	return info, nil
}

// absRef makes a file reference (PATH or PATH:split) absolute when PATH
// exists, so that embed.json still works from another directory; names
// such as "mnist" are kept.
func absRef(ref string) string {
	if ref == "" {
		return ref
	}
	path, split := ref, ""
	if _, err := os.Stat(ref); err != nil {
		if i := strings.LastIndex(ref, ":"); i > 0 {
			path, split = ref[:i], ref[i:]
		}
	}
	if _, err := os.Stat(path); err != nil {
		return ref
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ref
	}
	return abs + split
}

// pather is implemented by datasets that know where each image came from.
type pather interface{ Path(i int) string }

// ImagePath is where image i of ds came from: the dataset's own path when
// it records one, else "NAME#i" (the dataset reference and the row).
func ImagePath(ds data.Dataset, i int) string {
	if p, ok := ds.(pather); ok {
		if s := p.Path(i); s != "" {
			return s
		}
	}
	return ds.Name() + "#" + strconv.Itoa(i)
}

// Embed writes the index directory ec.Out: embeddings.npy (one row per
// image of ec.Data, in dataset order), index.csv and embed.json. Images
// are read, transformed and embedded one batch at a time, so memory does
// not grow with the dataset. progress, when not nil, receives a
// carriage-return progress line per batch.
func Embed(ec EmbedConfig, progress io.Writer) (EmbedInfo, error) {
	info := EmbedInfo{Source: Source{Checkpoint: absRef(ec.Checkpoint), Init: absRef(ec.Init)}, Data: absRef(ec.Data), Layer: ec.Layer, Normalized: ec.Normalize}
	if info.Layer == "" {
		info.Layer = "pool"
	}
	ds, err := data.Open(ec.Data, data.OpenOptions{SkipBad: ec.SkipBad})
	if err != nil {
		return info, err
	}
	_, _, c := ds.Shape()
	enc, err := ec.Source.Load(c)
	if err != nil {
		return info, err
	}
	em, err := enc.Embedder(info.Layer)
	if err != nil {
		return info, err
	}
	info.Size, info.Channels, info.N, info.Dim, info.Classes = enc.EvalSize(ds), c, ds.Len(), em.Dim, ds.ClassNames()
	w, err := index.Create(ec.Out, em.Dim, ec.Normalize)
	if err != nil {
		return info, err
	}
	start := time.Now()
	err = embedRows(ds, enc.Prep(info.Size), em, ec.Batch, func(i int, row []float32) error {
		label := ""
		if l := ds.Label(i); l >= 0 && l < len(info.Classes) {
			label = info.Classes[l]
		}
		return w.Add(row, index.Entry{Path: ImagePath(ds, i), Label: label})
	}, progress)
	if err != nil {
		w.Abort()
		return info, err
	}
	if err := w.Close(); err != nil {
		return info, err
	}
	info.Seconds = time.Since(start).Seconds()
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := safetensors.WriteFileAtomic(filepath.Join(ec.Out, EmbedInfoFile), append(b, '\n')); err != nil {
		return info, fmt.Errorf("embed: %w", err)
	}
	return info, nil
}

// embedRows runs em over every image of ds, batch at a time, and hands
// each row to emit in dataset order.
func embedRows(ds data.Dataset, prep func(*augment.Image) *augment.Image, em Embedder, batch int, emit func(i int, row []float32) error, progress io.Writer) error {
	n := ds.Len()
	if batch <= 0 {
		batch = 256
	}
	out := make([]float32, batch*em.Dim)
	imgs := make([]*augment.Image, 0, batch)
	start := time.Now()
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		imgs = imgs[:0]
		for i := lo; i < hi; i++ {
			img, err := ds.Image(i)
			if err != nil {
				return fmt.Errorf("embed %s: %w", ds.Name(), err)
			}
			imgs = append(imgs, prep(img))
		}
		x := augment.Stack(imgs)
		em.Forward(x, out[:(hi-lo)*em.Dim])
		tensor.Put(x)
		for i := lo; i < hi; i++ {
			if err := emit(i, out[(i-lo)*em.Dim:(i-lo+1)*em.Dim]); err != nil {
				return err
			}
		}
		if progress != nil {
			el := time.Since(start).Seconds()
			fmt.Fprintf(progress, "\rembed %s: %d/%d images (%3.0f%%) %.0f img/s ", ds.Name(), hi, n, 100*float64(hi)/float64(n), float64(hi)/max(el, 1e-9))
		}
	}
	if progress != nil && n > 0 {
		fmt.Fprintln(progress)
	}
	return nil
}

// EmbedImage embeds one image the way the index in dir was built
// (its embed.json): the same encoder, layer and transform. The image must
// have the index's channel count (EmbedInfo.Channels).
func EmbedImage(dir string, img *augment.Image) ([]float32, error) {
	info, err := ReadEmbedInfo(dir)
	if err != nil {
		return nil, err
	}
	if img.C != info.Channels {
		return nil, fmt.Errorf("query image has %d channels, the index %s was built from %d", img.C, dir, info.Channels)
	}
	enc, err := info.Source.Load(img.C)
	if err != nil {
		return nil, err
	}
	em, err := enc.Embedder(info.Layer)
	if err != nil {
		return nil, err
	}
	x := augment.Stack([]*augment.Image{enc.Prep(info.Size)(img)})
	defer tensor.Put(x)
	out := make([]float32, em.Dim)
	em.Forward(x, out)
	return out, nil
}

// InitEncoder copies torchvision-format weights from path into enc (the
// --init of pretrain), after checking that the file describes the same
// architecture, stem, width and input channels.
func InitEncoder(path string, enc *models.ResNet) error {
	src, _, err := export.ReadTorchvision(path)
	if err != nil {
		return err
	}
	if got, want := src.Config(), enc.Config(); got.Arch != want.Arch || got.Stem != want.Stem ||
		got.BaseWidth() != want.BaseWidth() || got.InChannels != want.InChannels {
		return fmt.Errorf("init %s: the file holds a %s (stem %s, width %g, %d channels), the run builds a %s (stem %s, width %g, %d channels)",
			path, got.Arch, got.Stem, got.Width, got.InChannels, want.Arch, want.Stem, want.Width, want.InChannels)
	}
	from, to := nn.State(src), nn.State(enc)
	for i := range to {
		if from[i].Name != to[i].Name {
			return fmt.Errorf("init %s: tensor %d is %s, want %s", path, i, from[i].Name, to[i].Name)
		}
		if to[i].F32 != nil {
			copy(to[i].F32.Data, from[i].F32.Data)
		} else {
			*to[i].I64 = *from[i].I64
		}
	}
	return nil
}

// syncTargets copies the encoder's tensors into the method's target
// networks after --init, so that a momentum encoder (MoCo's key encoder)
// starts from the same weights as the online one,
// as it does from a random init. A state entry is a copy target when
// its name after the first "." (MoCo's "encoder_k.") is an encoder
// tensor's name with the same shape.
func syncTargets(m methods.Method) {
	enc := map[string]*tensor.Tensor{}
	for _, e := range nn.State(m.Encoder()) {
		if e.F32 != nil {
			enc[e.Name] = e.F32
		}
	}
	for name, t := range m.State() {
		for i := 0; i < len(name); i++ {
			if name[i] != '.' {
				continue
			}
			if src, ok := enc[name[i+1:]]; ok && tensor.SameShape(src, t) {
				copy(t.Data, src.Data)
			}
			break
		}
	}
}
