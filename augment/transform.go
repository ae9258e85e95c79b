package augment

import "math/rand/v2"

// Transform is one augmentation step, random or not.
//
// Apply never modifies img. The result is a new image, or img itself when
// the step left it unchanged (a RandomApply that did not fire). Random steps
// draw their parameters from rng only, so a fixed seed gives fixed views.
type Transform interface {
	Apply(img *Image, rng *rand.Rand) *Image
}

// owner is implemented by every transform of this package. applyOwned is
// Apply for a pipeline: when owned is true img belongs to the pipeline (no
// one else sees it) and may be overwritten, so pixel-wise steps work in
// place and a pipeline allocates one image per geometric step only. It
// reports whether the returned image is owned.
type owner interface {
	applyOwned(img *Image, owned bool, rng *rand.Rand) (*Image, bool)
}

// applyStep runs t inside a pipeline. A Transform from outside the package
// is called through Apply; a result different from its input is a new
// image and so belongs to the pipeline.
func applyStep(t Transform, img *Image, owned bool, rng *rand.Rand) (*Image, bool) {
	if o, ok := t.(owner); ok {
		return o.applyOwned(img, owned, rng)
	}
	out := t.Apply(img, rng)
	return out, owned || out != img
}

// own returns img when the pipeline owns it and a copy otherwise, so that
// an in-place step never writes into its caller's image.
func own(img *Image, owned bool) *Image {
	if owned {
		return img
	}
	return img.Clone()
}

// applyVia implements Apply for an owner.
func applyVia(o owner, img *Image, rng *rand.Rand) *Image {
	out, _ := o.applyOwned(img, false, rng)
	return out
}

// Compose applies its transforms in order, like torchvision's
// transforms.Compose. Intermediate images are reused: after the first step
// that produces a new image, pixel-wise steps write in place.
type Compose []Transform

// Apply runs the pipeline on img; img is not modified.
func (c Compose) Apply(img *Image, rng *rand.Rand) *Image { return applyVia(c, img, rng) }

func (c Compose) applyOwned(img *Image, owned bool, rng *rand.Rand) (*Image, bool) {
	for _, t := range c {
		img, owned = applyStep(t, img, owned, rng)
	}
	return img, owned
}

// RandomApply applies T with probability P (torchvision's
// transforms.RandomApply with a single transform; use a Compose for more).
type RandomApply struct {
	P float64
	T Transform
}

// Apply runs T on img with probability P; img is not modified.
func (r *RandomApply) Apply(img *Image, rng *rand.Rand) *Image { return applyVia(r, img, rng) }

func (r *RandomApply) applyOwned(img *Image, owned bool, rng *rand.Rand) (*Image, bool) {
	if rng.Float64() >= r.P {
		return img, owned
	}
	return applyStep(r.T, img, owned, rng)
}

// Range is a closed interval [Min, Max] from which a random parameter is
// drawn uniformly, torchvision's (min, max) tuples.
type Range struct{ Min, Max float64 }

// sample draws uniformly from r. A degenerate range draws nothing, so fixed
// parameters do not consume random numbers.
func (r Range) sample(rng *rand.Rand) float64 {
	if r.Min == r.Max {
		return r.Min
	}
	return r.Min + (r.Max-r.Min)*rng.Float64()
}
