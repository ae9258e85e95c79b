package augment

import "math/rand/v2"

// HFlip returns img mirrored left to right
// (torchvision.transforms.functional.hflip).
func HFlip(img *Image) *Image {
	img.check("HFlip")
	out := img.Clone()
	hflipInPlace(out)
	return out
}

func hflipInPlace(img *Image) {
	c, w := img.C, img.W
	for y := 0; y < img.H; y++ {
		row := img.Pix[y*w*c : (y+1)*w*c]
		for l, r := 0, w-1; l < r; l, r = l+1, r-1 {
			for ch := 0; ch < c; ch++ {
				row[l*c+ch], row[r*c+ch] = row[r*c+ch], row[l*c+ch]
			}
		}
	}
}

// RandomHorizontalFlip mirrors the image with probability P
// (torchvision.transforms.RandomHorizontalFlip, default p = 0.5).
type RandomHorizontalFlip struct{ P float64 }

// Apply flips a copy of img with probability P; img is not modified.
func (t *RandomHorizontalFlip) Apply(img *Image, rng *rand.Rand) *Image { return applyVia(t, img, rng) }

func (t *RandomHorizontalFlip) applyOwned(img *Image, owned bool, rng *rand.Rand) (*Image, bool) {
	img.check("RandomHorizontalFlip")
	if rng.Float64() >= t.P {
		return img, owned
	}
	img = own(img, owned)
	hflipInPlace(img)
	return img, true
}
