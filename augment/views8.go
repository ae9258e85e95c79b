package augment

import (
	"fmt"
	"math/rand/v2"
)

// Image8 is an image in HWC uint8 form, index (y*W+x)*C+c, the storage of
// decoded datasets; value b stands for float32(b)/255 (ToTensor).
type Image8 struct {
	H, W, C int
	Pix     []uint8
}

// u8f32 maps a byte to float32(b)/255, torchvision's ToTensor.
var u8f32 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// ToFloat converts the top×left height×width box of img to a float32
// Image (the whole image for the box 0, 0, H, W).
func (img Image8) ToFloat(top, left, height, width int) *Image {
	if img.H < 1 || img.W < 1 || img.C < 1 || len(img.Pix) != img.H*img.W*img.C {
		panic(fmt.Sprintf("augment.Image8.ToFloat: bad image %dx%dx%d with %d bytes", img.H, img.W, img.C, len(img.Pix)))
	}
	if top < 0 || left < 0 || height < 1 || width < 1 || top+height > img.H || left+width > img.W {
		panic(fmt.Sprintf("augment.Image8.ToFloat: box %d,%d %dx%d outside %dx%d", top, left, height, width, img.H, img.W))
	}
	out := NewImage(height, width, img.C)
	row := width * img.C
	for y := range height {
		src := img.Pix[((top+y)*img.W+left)*img.C:][:row]
		dst := out.Pix[y*row : (y+1)*row]
		for i, b := range src {
			dst[i] = u8f32[b]
		}
	}
	return out
}

// ViewsU8 returns the same views, bit for bit and drawing the same random
// numbers, as Views(img.ToFloat(0, 0, img.H, img.W), rng), but a pipeline
// that starts with a RandomResizedCrop converts only its crop box to
// float32: at 224 px from large photos most of the image is never
// converted. Its signature is data.LoaderConfig.RawViews'.
func (m *MultiView) ViewsU8(img Image8, rng *rand.Rand) []*Image {
	var full *Image
	out := make([]*Image, len(m.Pipelines))
	for i, p := range m.Pipelines {
		if c, ok := p.(Compose); ok && len(c) > 0 {
			if rrc, ok := c[0].(*RandomResizedCrop); ok {
				top, left, h, w := rrc.Params(img.H, img.W, rng)
				v := ResizedCrop(img.ToFloat(top, left, h, w), 0, 0, h, w, rrc.Size, rrc.Interpolation, rrc.Antialias)
				v, _ = c[1:].applyOwned(v, true, rng)
				out[i] = v
				continue
			}
		}
		if full == nil {
			full = img.ToFloat(0, 0, img.H, img.W)
		}
		v, owned := applyStep(p, full, false, rng)
		if !owned {
			v = v.Clone()
		}
		out[i] = v
	}
	return out
}
