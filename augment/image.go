package augment

// Image is one decoded image in HWC order (channels last) with float32
// values in [0, 1]: C is 1 (gray) or 3 (RGB). Datasets hand images to the
// augmentation pipeline in this form and the loader stacks the resulting
// views into NHWC batch tensors.
type Image struct {
	H, W, C int
	Pix     []float32 // len H*W*C, index (y*W+x)*C+c
}

// NewImage returns a black image of the given size.
func NewImage(h, w, c int) *Image { return &Image{H: h, W: w, C: c, Pix: make([]float32, h*w*c)} }
