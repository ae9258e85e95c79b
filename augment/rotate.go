package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Rotate returns img rotated counter-clockwise by angle degrees about its
// centre, keeping its size: torchvision.transforms.functional.rotate on a
// float tensor with expand=False, center=None and a fill (as
// RandomRotation always passes one). mode is Nearest or Bilinear; fill has
// one value per channel, or is nil for black.
//
// Like torchvision, sampling is grid_sample with align_corners=False and
// zero padding, done on the image plus a ones channel: with Bilinear the
// output is sample·mask + (1-mask)·fill, with Nearest pixels whose mask is
// below 0.5 take the fill.
func Rotate(img *Image, angle float64, mode Interpolation, fill []float32) *Image {
	img.check("Rotate")
	if mode != Nearest && mode != Bilinear {
		panic(fmt.Sprintf("augment.Rotate: interpolation %v not supported (want nearest or bilinear)", mode))
	}
	if fill != nil && len(fill) != img.C {
		panic(fmt.Sprintf("augment.Rotate: %d fill values for %d channels", len(fill), img.C))
	}
	if fill == nil {
		fill = make([]float32, img.C)
	}
	out := NewImage(img.H, img.W, img.C)
	// Inverse matrix of _get_inverse_affine_matrix(center 0, -angle, ...):
	// source = [cos -sin; sin cos]·(output - centre). The grid is computed
	// in float32 in torch's order (_gen_affine_grid, then grid_sample's
	// unnormalize (g+1)·size/2 - 0.5) so that Nearest breaks ties at .5
	// as torch does.
	th := angle * math.Pi / 180
	h, w, c := img.H, img.W, img.C
	hw, hh := float32(0.5*float64(w)), float32(0.5*float64(h))
	r00, r10 := float32(math.Cos(th))/hw, float32(-math.Sin(th))/hw
	r01, r11 := float32(math.Sin(th))/hh, float32(math.Cos(th))/hh
	var px [3]float32
	for i := 0; i < h; i++ {
		y := float32(float64(i) - float64(h)*0.5 + 0.5)
		for j := 0; j < w; j++ {
			x := float32(float64(j) - float64(w)*0.5 + 0.5)
			gx := float32(x*r00) + float32(y*r10)
			gy := float32(x*r01) + float32(y*r11)
			ix := float64(float32((gx+1)*hw) - 0.5)
			iy := float64(float32((gy+1)*hh) - 0.5)
			d := out.Pix[(i*w+j)*c : (i*w+j+1)*c]
			if mode == Nearest {
				xn, yn := int(math.RoundToEven(ix)), int(math.RoundToEven(iy))
				if xn >= 0 && xn < w && yn >= 0 && yn < h {
					copy(d, img.Pix[(yn*w+xn)*c:(yn*w+xn+1)*c])
				} else {
					copy(d, fill)
				}
				continue
			}
			x0, y0 := math.Floor(ix), math.Floor(iy)
			tx, ty := float32(ix-x0), float32(iy-y0)
			xi, yi := int(x0), int(y0)
			var mask float32
			s := px[:c]
			clear(s)
			for k := 0; k < 4; k++ {
				xx, yy := xi+k&1, yi+k>>1
				if xx < 0 || xx >= w || yy < 0 || yy >= h {
					continue
				}
				wx, wy := tx, ty
				if k&1 == 0 {
					wx = 1 - tx
				}
				if k>>1 == 0 {
					wy = 1 - ty
				}
				wk := wx * wy
				mask += wk
				p := img.Pix[(yy*w+xx)*c : (yy*w+xx+1)*c]
				for ch := range s {
					s[ch] += wk * p[ch]
				}
			}
			for ch := range d {
				d[ch] = s[ch]*mask + (1-mask)*fill[ch]
			}
		}
	}
	return out
}

// RandomRotation rotates by an angle drawn uniformly from Degrees
// (torchvision.transforms.RandomRotation with expand=False, center=None).
type RandomRotation struct {
	Degrees       Range
	Interpolation Interpolation // torchvision default Nearest
	Fill          []float32     // per channel; nil = 0 (torchvision's default fill=0)
}

// NewRandomRotation returns a RandomRotation over (-degrees, +degrees) with
// torchvision's defaults (nearest, fill 0).
func NewRandomRotation(degrees float64) *RandomRotation {
	if degrees < 0 {
		panic(fmt.Sprintf("augment.NewRandomRotation: negative degrees %g", degrees))
	}
	return &RandomRotation{Degrees: Range{-degrees, degrees}, Interpolation: Nearest}
}

// Apply rotates img by a random angle; img is not modified.
func (t *RandomRotation) Apply(img *Image, rng *rand.Rand) *Image {
	img.check("RandomRotation")
	return Rotate(img, t.Degrees.sample(rng), t.Interpolation, t.Fill)
}

// Rot90 returns img rotated counter-clockwise by k·90 degrees (k taken
// modulo 4), exactly like torch.rot90(img, k, dims=(H, W)): the RotNet
// rotations (Gidaris et al., arXiv:1803.07728). For k odd the result is
// W×H.
func Rot90(img *Image, k int) *Image {
	img.check("Rot90")
	k = ((k % 4) + 4) % 4
	h, w, c := img.H, img.W, img.C
	if k == 0 {
		return img.Clone()
	}
	oh, ow := h, w
	if k%2 == 1 {
		oh, ow = w, h
	}
	out := NewImage(oh, ow, c)
	for i := 0; i < oh; i++ {
		for j := 0; j < ow; j++ {
			var sy, sx int
			switch k {
			case 1:
				sy, sx = j, w-1-i
			case 2:
				sy, sx = h-1-i, w-1-j
			case 3:
				sy, sx = h-1-j, i
			}
			copy(out.Pix[(i*ow+j)*c:(i*ow+j+1)*c], img.Pix[(sy*w+sx)*c:(sy*w+sx+1)*c])
		}
	}
	return out
}

// RandomRot90 is RotNet's pretext task: it draws k uniformly from
// {0, 1, 2, 3} and returns Rot90(img, k) with the label k.
func RandomRot90(img *Image, rng *rand.Rand) (*Image, int) {
	k := rng.IntN(4)
	return Rot90(img, k), k
}
