package serve

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"sync"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/train"
)

// Embedder maps images to vectors. Embed receives decoded images in [0, 1]
// with Channels() channels and any size, and returns one vector of Dim()
// values per image. The server calls Embed from one goroutine at a time.
type Embedder interface {
	Channels() int
	Dim() int
	Embed(imgs []*augment.Image) ([][]float32, error)
}

// forwardMu serialises forward passes of every Model in the process: the
// engine's inference arena and grad mode are global.
var forwardMu sync.Mutex

// Model embeds images with a ResNet encoder's pooled features, preparing
// each image as evaluation does: torchvision's eval transform at the
// training size (augment.EvalView), then the run's normalisation.
type Model struct {
	enc  *models.ResNet
	inf  *models.Inference // enc with its batch norms folded
	size int
	c    int
	norm *augment.Normalize // nil: none
}

// NewModel wraps enc (switched to evaluation mode, its batch norms folded
// into its convolutions as they are now: models.Inference) for inputs of
// size×size with c channels, normalised by mean and std (nil: not
// normalised).
func NewModel(enc *models.ResNet, size, c int, mean, std []float32) *Model {
	nn.SetTraining(enc, false)
	m := &Model{enc: enc, inf: models.NewInference(enc), size: size, c: c}
	if mean != nil {
		m.norm = &augment.Normalize{Mean: mean, Std: std}
	}
	return m
}

// LoadModel loads the encoder of a run (a run directory or a checkpoint
// file). imageSize is the side the encoder was trained at; 0 takes
// fallback, the size found by the caller (the index's first image), or 224
// for an ImageNet stem and 32 for a CIFAR stem when that is 0 too.
func LoadModel(run string, imageSize, fallback int) (*Model, error) {
	file := run
	if st, err := os.Stat(run); err == nil && st.IsDir() {
		file = filepath.Join(run, train.CheckpointFile)
	}
	c, err := inputChannels(file)
	if err != nil {
		return nil, err
	}
	enc, cfg, err := train.LoadEncoder(file, c)
	if err != nil {
		return nil, err
	}
	size := imageSize
	if size == 0 {
		size = fallback
	}
	if size == 0 {
		size = 224
		if cfg.Stem == "cifar" {
			size = 32
		}
	}
	mv, err := augment.Preset(cfg.AugmentPreset(), size, c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return NewModel(enc, size, c, mv.Mean, mv.Std), nil
}

// inputChannels reads the encoder's input channels from the shape of
// conv1.weight [out, in, kh, kw].
func inputChannels(file string) (int, error) {
	f, err := safetensors.Read(file)
	if err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	e, ok := f.Entries["conv1.weight"]
	if !ok || len(e.Shape) != 4 {
		return 0, fmt.Errorf("checkpoint %s: no conv1.weight of 4 dimensions: not an encoder checkpoint", file)
	}
	return e.Shape[1], nil
}

// Size is the side of the square input the encoder sees.
func (m *Model) Size() int { return m.size }

// Channels is the encoder's input channels (1 or 3).
func (m *Model) Channels() int { return m.c }

// Dim is the length of an embedding (the encoder's feature width).
func (m *Model) Dim() int { return m.enc.FeatureDim() }

// Embed returns the pooled features of imgs, one forward pass for all.
func (m *Model) Embed(imgs []*augment.Image) ([][]float32, error) {
	if len(imgs) == 0 {
		return nil, nil
	}
	views := make([]*augment.Image, len(imgs))
	for i, img := range imgs {
		if img.C != m.c {
			return nil, fmt.Errorf("image %d has %d channels, the encoder takes %d", i, img.C, m.c)
		}
		v := augment.EvalView(img, m.size)
		if m.norm != nil {
			v = m.norm.Apply(v, nil)
		}
		views[i] = v
	}
	x := augment.Stack(views)
	d := m.Dim()
	flat := make([]float32, len(imgs)*d)
	forwardMu.Lock()
	m.inf.Forward(x, flat)
	forwardMu.Unlock()
	out := make([][]float32, len(imgs))
	for i := range out {
		out[i] = flat[i*d : (i+1)*d : (i+1)*d]
	}
	return out, nil
}

// ToImage converts a decoded image to the engine's HWC float form with c
// channels as the data package does: colour images keep their
// non-premultiplied RGB and drop alpha (PIL's convert("RGB")), gray is Go's
// luma (color.GrayModel) when the encoder takes one channel.
func ToImage(src image.Image, c int) *augment.Image {
	b := src.Bounds()
	h, w := b.Dy(), b.Dx()
	img := augment.NewImage(h, w, c)
	put := func(i int, r, g, bl uint8) {
		if c == 1 {
			img.Pix[i] = float32((19595*uint32(r)+38470*uint32(g)+7471*uint32(bl)+1<<15)>>16) / 255
			return
		}
		img.Pix[3*i], img.Pix[3*i+1], img.Pix[3*i+2] = float32(r)/255, float32(g)/255, float32(bl)/255
	}
	switch m := src.(type) {
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				put(y*w+x, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.Gray:
		for y := range h {
			for x, v := range m.Pix[y*m.Stride : y*m.Stride+w] {
				put(y*w+x, v, v, v)
			}
		}
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				put(y*w+x, r, g, bl)
			}
		}
	default:
		// RGBA (premultiplied), paletted, 16-bit, CMYK: the general path.
		for y := range h {
			for x := range w {
				n := color.NRGBAModel.Convert(src.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				put(y*w+x, n.R, n.G, n.B)
			}
		}
	}
	return img
}

// toNRGBA converts an engine image with values in [0, 1] for encoding.
func toNRGBA(img *augment.Image) *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, img.W, img.H))
	for i := 0; i < img.H*img.W; i++ {
		p := out.Pix[4*i : 4*i+4]
		if img.C == 1 {
			v := u8(img.Pix[i])
			p[0], p[1], p[2] = v, v, v
		} else {
			p[0], p[1], p[2] = u8(img.Pix[3*i]), u8(img.Pix[3*i+1]), u8(img.Pix[3*i+2])
		}
		p[3] = 255
	}
	return out
}

func u8(v float32) uint8 { return uint8(min(max(v, 0), 1)*255 + 0.5) }
