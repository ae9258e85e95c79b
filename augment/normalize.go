package augment

import (
	"fmt"
	"math/rand/v2"
)

// Per-channel means and standard deviations of common datasets, on the
// [0, 1] scale. CIFAR-10's are those of its 50,000 training images (the
// values in ../shared/datasets/README.md divided by 255), ImageNet's are
// torchvision's, MNIST's the usual 0.1307/0.3081.
var (
	CIFAR10Mean  = []float32{0.4914, 0.4822, 0.4465}
	CIFAR10Std   = []float32{0.2470, 0.2435, 0.2616}
	ImageNetMean = []float32{0.485, 0.456, 0.406}
	ImageNetStd  = []float32{0.229, 0.224, 0.225}
	MNISTMean    = []float32{0.1307}
	MNISTStd     = []float32{0.3081}
)

// Normalize maps each channel to (v - Mean[c]) / Std[c]
// (torchvision.transforms.Normalize; computed as a product with 1/Std,
// within a float32 rounding of torch's division). It is the last step of a pipeline:
// its output is no longer in [0, 1].
type Normalize struct {
	Mean, Std []float32
}

// Apply normalises a copy of img; img is not modified.
func (t *Normalize) Apply(img *Image, rng *rand.Rand) *Image { return applyVia(t, img, rng) }

func (t *Normalize) applyOwned(img *Image, owned bool, _ *rand.Rand) (*Image, bool) {
	img.check("Normalize")
	c := img.C
	if len(t.Mean) != c || len(t.Std) != c {
		panic(fmt.Sprintf("augment.Normalize: mean %v and std %v for a %d-channel image", t.Mean, t.Std, c))
	}
	img = own(img, owned)
	if c == 3 {
		m0, m1, m2 := t.Mean[0], t.Mean[1], t.Mean[2]
		s0, s1, s2 := 1/t.Std[0], 1/t.Std[1], 1/t.Std[2]
		for p := 0; p+3 <= len(img.Pix); p += 3 {
			px := img.Pix[p : p+3 : p+3]
			px[0], px[1], px[2] = (px[0]-m0)*s0, (px[1]-m1)*s1, (px[2]-m2)*s2
		}
		return img, true
	}
	m, s := t.Mean[0], 1/t.Std[0]
	for i, v := range img.Pix {
		img.Pix[i] = (v - m) * s
	}
	return img, true
}

// Unnormalize inverts Normalize for display: v·std + mean, clamped to
// [0, 1]. It returns a new image.
func Unnormalize(img *Image, mean, std []float32) *Image {
	img.check("Unnormalize")
	if len(mean) != img.C || len(std) != img.C {
		panic(fmt.Sprintf("augment.Unnormalize: mean %v and std %v for a %d-channel image", mean, std, img.C))
	}
	out := img.Clone()
	for p := 0; p < len(out.Pix); p += img.C {
		for ch := 0; ch < img.C; ch++ {
			out.Pix[p+ch] = clamp01(out.Pix[p+ch]*std[ch] + mean[ch])
		}
	}
	return out
}
