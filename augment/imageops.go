package augment

import "fmt"

// Clone returns a deep copy of img.
func (img *Image) Clone() *Image {
	out := &Image{H: img.H, W: img.W, C: img.C, Pix: make([]float32, len(img.Pix))}
	copy(out.Pix, img.Pix)
	return out
}

// check panics (naming op) unless img is a well-formed 1- or 3-channel
// image. Every exported operation calls it at the door.
func (img *Image) check(op string) {
	if img == nil {
		panic("augment." + op + ": nil image")
	}
	if img.H < 1 || img.W < 1 || (img.C != 1 && img.C != 3) || len(img.Pix) != img.H*img.W*img.C {
		panic(fmt.Sprintf("augment.%s: bad image %dx%dx%d with %d values (want C 1 or 3 and H*W*C values)",
			op, img.H, img.W, img.C, len(img.Pix)))
	}
}

// clamp01 limits v to [0, 1], like torch's clamp(0, 1).
func clamp01(v float32) float32 { return min(max(v, 0), 1) }
