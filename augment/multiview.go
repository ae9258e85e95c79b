package augment

import (
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// MultiView turns one image into the views of a contrastive method: one
// pipeline per view (lightly's MultiViewTransform). Two identical
// pipelines make SimCLR's positive pair; SwAV's multi-crop is two global
// and several local pipelines; a memory-bank method (InstDisc) has one.
type MultiView struct {
	// Name is the preset name, e.g. "simclr-cifar".
	Name string
	// Pipelines produce the views, in order.
	Pipelines []Transform
	// Mean and Std are the normalisation every pipeline ends with (nil
	// when none); Display uses them to undo it.
	Mean, Std []float32
	// JigsawGrid[i] is the grid of view i when it is a jigsaw strip (see
	// Jigsaw.Apply), 0 otherwise; nil when no view is.
	JigsawGrid []int
}

// Views returns one new image per pipeline, drawing every random parameter
// from rng. img is not modified and no view aliases it. Its signature is
// the data loader's view function: pass mv.Views.
func (m *MultiView) Views(img *Image, rng *rand.Rand) []*Image {
	img.check("MultiView.Views")
	out := make([]*Image, len(m.Pipelines))
	for i, p := range m.Pipelines {
		v, owned := applyStep(p, img, false, rng)
		if !owned {
			v = v.Clone()
		}
		out[i] = v
	}
	return out
}

// Display returns view i made fit for a person to look at: normalisation
// undone and a jigsaw strip laid out as a mosaic.
func (m *MultiView) Display(i int, view *Image) *Image {
	if m.Mean != nil {
		view = Unnormalize(view, m.Mean, m.Std)
	}
	if i < len(m.JigsawGrid) && m.JigsawGrid[i] > 0 {
		view = Mosaic(view, m.JigsawGrid[i], 1)
	}
	return view
}

// Stack copies n same-sized images into an (n, H, W, C) tensor, the
// engine's NHWC layout (torchvision's ToTensor plus collation, channels
// last). The tensor comes from the tensor pool: the caller may return it
// with tensor.Put.
func Stack(imgs []*Image) *tensor.Tensor {
	if len(imgs) == 0 {
		panic("augment.Stack: no images")
	}
	h, w, c := imgs[0].H, imgs[0].W, imgs[0].C
	t := tensor.GetDirty(len(imgs), h, w, c)
	n := h * w * c
	for i, img := range imgs {
		img.check("Stack")
		if img.H != h || img.W != w || img.C != c {
			panic(fmt.Sprintf("augment.Stack: image %d is %dx%dx%d, image 0 is %dx%dx%d", i, img.H, img.W, img.C, h, w, c))
		}
		copy(t.Data[i*n:(i+1)*n], img.Pix)
	}
	return t
}
