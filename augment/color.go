package augment

import (
	"fmt"
	"math/rand/v2"
)

// Luma weights of torchvision's rgb_to_grayscale (ITU-R 601-2, with
// torchvision's 0.2989 for red).
const (
	lumaR = 0.2989
	lumaG = 0.587
	lumaB = 0.114
)

// ToGrayscale returns the luma of img, 0.2989·R + 0.587·G + 0.114·B, as
// torchvision.transforms.functional.rgb_to_grayscale: with 1 or 3 output
// channels (3 repeats the luma). A 1-channel input is copied (and repeated
// when 3 channels are asked for).
func ToGrayscale(img *Image, numOutputChannels int) *Image {
	img.check("ToGrayscale")
	if numOutputChannels != 1 && numOutputChannels != 3 {
		panic(fmt.Sprintf("augment.ToGrayscale: numOutputChannels %d (want 1 or 3)", numOutputChannels))
	}
	out := NewImage(img.H, img.W, numOutputChannels)
	n := img.H * img.W
	for p := 0; p < n; p++ {
		var l float32
		if img.C == 3 {
			s := img.Pix[3*p : 3*p+3 : 3*p+3]
			l = lumaR*s[0] + lumaG*s[1] + lumaB*s[2]
		} else {
			l = img.Pix[p]
		}
		for ch := 0; ch < numOutputChannels; ch++ {
			out.Pix[p*numOutputChannels+ch] = l
		}
	}
	return out
}

// grayInPlace replaces every RGB pixel by its luma in all three channels.
func grayInPlace(img *Image) {
	if img.C != 3 {
		return
	}
	for p := 0; p+3 <= len(img.Pix); p += 3 {
		s := img.Pix[p : p+3 : p+3]
		l := lumaR*s[0] + lumaG*s[1] + lumaB*s[2]
		s[0], s[1], s[2] = l, l, l
	}
}

func checkFactor(op string, f float64) {
	if !(f >= 0) {
		panic(fmt.Sprintf("augment.%s: factor %g is not non-negative", op, f))
	}
}

// AdjustBrightness returns img scaled by factor and clamped to [0, 1]
// (torchvision.transforms.functional.adjust_brightness: a blend with black).
// factor must be non-negative.
func AdjustBrightness(img *Image, factor float64) *Image {
	img.check("AdjustBrightness")
	checkFactor("AdjustBrightness", factor)
	return single(img, JitterBrightness, factor)
}

// single applies one jitter adjustment to a copy of img.
func single(img *Image, kind int, factor float64) *Image {
	p := JitterParams{Order: [4]int{kind, 0, 0, 0}, Brightness: 1, Contrast: 1, Saturation: 1}
	for i := 1; i < 4; i++ {
		p.Order[i] = (kind + i) % 4
	}
	switch kind {
	case JitterBrightness:
		p.Brightness = factor
	case JitterContrast:
		p.Contrast = factor
	case JitterSaturation:
		p.Saturation = factor
	case JitterHue:
		p.Hue = factor
	}
	out := img.Clone()
	p.applyInPlace(out)
	return out
}

// AdjustContrast blends img with the mean of its grayscale image:
// factor·img + (1-factor)·mean, clamped to [0, 1]
// (torchvision.transforms.functional.adjust_contrast). factor must be
// non-negative.
func AdjustContrast(img *Image, factor float64) *Image {
	img.check("AdjustContrast")
	checkFactor("AdjustContrast", factor)
	return single(img, JitterContrast, factor)
}

// AdjustSaturation blends each pixel with its luma:
// factor·img + (1-factor)·gray, clamped to [0, 1]
// (torchvision.transforms.functional.adjust_saturation). A 1-channel image
// is returned unchanged (copied), as in torchvision. factor must be
// non-negative.
func AdjustSaturation(img *Image, factor float64) *Image {
	img.check("AdjustSaturation")
	checkFactor("AdjustSaturation", factor)
	return single(img, JitterSaturation, factor)
}

// AdjustHue shifts the hue of every pixel by factor turns (factor in
// [-0.5, 0.5]) through an HSV round trip, exactly as
// torchvision.transforms.functional.adjust_hue on float tensors
// (_rgb2hsv, (h + factor) mod 1, _hsv2rgb). A 1-channel image is returned
// unchanged (copied).
func AdjustHue(img *Image, factor float64) *Image {
	img.check("AdjustHue")
	if !(factor >= -0.5 && factor <= 0.5) {
		panic(fmt.Sprintf("augment.AdjustHue: factor %g is not in [-0.5, 0.5]", factor))
	}
	return single(img, JitterHue, factor)
}

// shiftHue rotates the hue of one pixel by shift sixths of a turn. It is
// rgb2hsv, a hue shift and hsv2rgb folded together: with v = max,
// s = (max-min)/max and f the position inside the hue sector, hsv2rgb's
// p = v(1-s), q = v(1-sf), t = v(1-s(1-f)) are min, max-(max-min)f and
// min+(max-min)f, so the output is a permutation of max, min and one
// interpolated value. It agrees with the round trip to float32 rounding
// (tested against torchvision's adjust_hue).
func shiftHue(r, g, b, shift float32) (float32, float32, float32) {
	hi := max(r, g, b)
	lo := min(r, g, b)
	cr := hi - lo
	if cr == 0 {
		return r, g, b // gray: hue 0, saturation 0, unchanged
	}
	// The hue in sixths of a turn is 2k + num[k]/cr for the first channel
	// k holding the maximum (torch's order: red, green, blue). Shifted and
	// moved up by 6 it lies in [2, 14), so truncation gives the sector
	// without branches (they mispredict on natural images' edges).
	k := 2
	if hi == g {
		k = 1
	}
	if hi == r {
		k = 0
	}
	num := [3]float32{g - b, b - r, r - g}
	h := float32(2*k) + num[k]/cr + shift + 6
	i := int(h)
	f := h - float32(i)
	vals := [4]float32{hi, lo + cr*f, lo, hi - cr*f} // v, t, p, q of hsv2rgb
	o := &hueOrder[sectorOf[i&15]]
	return vals[o[0]], vals[o[1]], vals[o[2]]
}

// sectorOf[i] is i mod 6; hueOrder[sector] picks R, G, B from
// (v, t, p, q) as torchvision's _hsv2rgb does.
var (
	sectorOf = [16]uint8{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3}
	hueOrder = [6][3]uint8{{0, 1, 2}, {3, 0, 2}, {2, 0, 1}, {2, 3, 0}, {1, 2, 0}, {0, 2, 3}}
)

// ColorJitter randomly changes brightness, contrast, saturation and hue,
// applying the four adjustments in a random order
// (torchvision.transforms.ColorJitter). Each field is the range its factor
// is drawn from; a zero Range, or the identity factor for both ends
// (1 for the first three, 0 for hue), turns that adjustment off.
// Wrap it in RandomApply for torchvision's RandomApply([ColorJitter], p).
type ColorJitter struct {
	Brightness, Contrast, Saturation, Hue Range
}

// NewColorJitter builds a ColorJitter from torchvision's scalar arguments:
// brightness b gives factors in [max(0, 1-b), 1+b], likewise contrast and
// saturation, and hue h gives [-h, h] (h ≤ 0.5). All must be non-negative.
func NewColorJitter(brightness, contrast, saturation, hue float64) *ColorJitter {
	for _, v := range []float64{brightness, contrast, saturation, hue} {
		if !(v >= 0) {
			panic(fmt.Sprintf("augment.NewColorJitter(%g, %g, %g, %g): arguments must be non-negative", brightness, contrast, saturation, hue))
		}
	}
	if hue > 0.5 {
		panic(fmt.Sprintf("augment.NewColorJitter: hue %g > 0.5", hue))
	}
	around1 := func(v float64) Range { return Range{max(0, 1-v), 1 + v} }
	return &ColorJitter{around1(brightness), around1(contrast), around1(saturation), Range{-hue, hue}}
}

// Jitter adjustments, the indices of JitterParams.Order (torchvision's
// fn_idx).
const (
	JitterBrightness = iota
	JitterContrast
	JitterSaturation
	JitterHue
)

// JitterParams is one draw of a ColorJitter: the order of the four
// adjustments and their factors. A disabled adjustment has its identity
// factor (1, or 0 for hue) and is skipped.
type JitterParams struct {
	Order                                 [4]int
	Brightness, Contrast, Saturation, Hue float64
}

func off(r Range, identity float64) bool {
	return r == (Range{}) || (r.Min == identity && r.Max == identity)
}

// Params draws the order (a uniform permutation) and the factors of the
// enabled adjustments (in the order brightness, contrast, saturation, hue),
// torchvision's ColorJitter.get_params.
func (t *ColorJitter) Params(rng *rand.Rand) JitterParams {
	p := JitterParams{Order: [4]int{0, 1, 2, 3}, Brightness: 1, Contrast: 1, Saturation: 1}
	for i := 3; i > 0; i-- {
		j := rng.IntN(i + 1)
		p.Order[i], p.Order[j] = p.Order[j], p.Order[i]
	}
	if !off(t.Brightness, 1) {
		p.Brightness = t.Brightness.sample(rng)
	}
	if !off(t.Contrast, 1) {
		p.Contrast = t.Contrast.sample(rng)
	}
	if !off(t.Saturation, 1) {
		p.Saturation = t.Saturation.sample(rng)
	}
	if !off(t.Hue, 0) {
		p.Hue = t.Hue.sample(rng)
	}
	return p
}

// Apply returns img with the adjustments applied in p.Order, as
// ColorJitter.forward does for its drawn parameters; img is not modified.
func (p JitterParams) Apply(img *Image) *Image {
	img.check("JitterParams.Apply")
	out := img.Clone()
	p.applyInPlace(out)
	return out
}

// applyInPlace runs the adjustments fused per pixel: contrast needs the
// mean luma of the image as the earlier steps leave it, so the steps before
// contrast run in a first pass that also sums the luma, and contrast and
// the steps after it in a second pass. Each step is the same arithmetic as
// its Adjust function.
func (p JitterParams) applyInPlace(img *Image) {
	var pre, post [4]pixOp
	np, nq := 0, 0
	contrast := false
	for _, fn := range p.Order {
		var o pixOp
		switch fn {
		case JitterBrightness:
			if p.Brightness == 1 {
				continue
			}
			o = pixOp{kind: JitterBrightness, f: float32(p.Brightness)}
		case JitterContrast:
			if p.Contrast == 1 {
				continue
			}
			contrast = true
			o = pixOp{kind: JitterContrast, f: float32(p.Contrast)}
		case JitterSaturation:
			if p.Saturation == 1 || img.C != 3 {
				continue
			}
			o = pixOp{kind: JitterSaturation, f: float32(p.Saturation)}
		case JitterHue:
			if p.Hue == 0 || img.C != 3 {
				continue
			}
			o = pixOp{kind: JitterHue, f: float32(6 * p.Hue)}
		default:
			continue
		}
		if contrast {
			post[nq] = o
			nq++
		} else {
			pre[np] = o
			np++
		}
	}
	sum := applyPixOps(img, pre[:np], contrast)
	if contrast {
		mean := float32(sum / float64(img.H*img.W))
		post[0].b = (1 - post[0].f) * mean
		applyPixOps(img, post[:nq], false)
	}
}

// pixOp is one fused jitter step: out = f·v + b for contrast (b set once
// the mean is known), f the factor otherwise (6·factor for hue).
type pixOp struct {
	kind int
	f, b float32
}

// applyPixOps applies ops to every pixel in one pass and, if wantLuma,
// returns the sum of the luma (the value for 1-channel images) of the
// result.
func applyPixOps(img *Image, ops []pixOp, wantLuma bool) float64 {
	if len(ops) == 0 && !wantLuma {
		return 0
	}
	var sum float64
	if img.C == 1 {
		var rowSum float32
		for i, v := range img.Pix {
			for _, o := range ops {
				switch o.kind {
				case JitterBrightness:
					v = min(o.f*v, 1)
				case JitterContrast:
					v = clamp01(o.f*v + o.b)
				}
			}
			img.Pix[i] = v
			rowSum += v
			if i%img.W == img.W-1 {
				sum += float64(rowSum)
				rowSum = 0
			}
		}
		return sum
	}
	for y := 0; y < img.H; y++ {
		row := img.Pix[y*img.W*3 : (y+1)*img.W*3]
		var rowSum float32
		for x := 0; x+3 <= len(row); x += 3 {
			px := row[x : x+3 : x+3]
			r, g, b := px[0], px[1], px[2]
			for _, o := range ops {
				switch o.kind {
				case JitterBrightness:
					r, g, b = min(o.f*r, 1), min(o.f*g, 1), min(o.f*b, 1)
				case JitterContrast:
					r, g, b = clamp01(o.f*r+o.b), clamp01(o.f*g+o.b), clamp01(o.f*b+o.b)
				case JitterSaturation:
					l := (1 - o.f) * (lumaR*r + lumaG*g + lumaB*b)
					r, g, b = clamp01(o.f*r+l), clamp01(o.f*g+l), clamp01(o.f*b+l)
				case JitterHue:
					r, g, b = shiftHue(r, g, b, o.f)
				}
			}
			px[0], px[1], px[2] = r, g, b
			if wantLuma {
				rowSum += lumaR*r + lumaG*g + lumaB*b
			}
		}
		sum += float64(rowSum)
	}
	return sum
}

// Apply jitters a copy of img; img is not modified.
func (t *ColorJitter) Apply(img *Image, rng *rand.Rand) *Image { return applyVia(t, img, rng) }

func (t *ColorJitter) applyOwned(img *Image, owned bool, rng *rand.Rand) (*Image, bool) {
	img.check("ColorJitter")
	p := t.Params(rng)
	img = own(img, owned)
	p.applyInPlace(img)
	return img, true
}

// RandomGrayscale converts an RGB image to 3-channel grayscale with
// probability P (torchvision.transforms.RandomGrayscale, default p = 0.1).
// A 1-channel image is left as it is.
type RandomGrayscale struct{ P float64 }

// Apply converts a copy of img with probability P; img is not modified.
func (t *RandomGrayscale) Apply(img *Image, rng *rand.Rand) *Image { return applyVia(t, img, rng) }

func (t *RandomGrayscale) applyOwned(img *Image, owned bool, rng *rand.Rand) (*Image, bool) {
	img.check("RandomGrayscale")
	if rng.Float64() >= t.P || img.C != 3 {
		return img, owned
	}
	img = own(img, owned)
	grayInPlace(img)
	return img, true
}

// Solarize inverts (1 - v) every value at or above threshold
// (torchvision.transforms.functional.solarize on float tensors).
func Solarize(img *Image, threshold float64) *Image {
	img.check("Solarize")
	out := img.Clone()
	solarizeInPlace(out, float32(threshold))
	return out
}

func solarizeInPlace(img *Image, th float32) {
	for i, v := range img.Pix {
		if v >= th {
			img.Pix[i] = 1 - v
		}
	}
}

// RandomSolarize solarizes with probability P
// (torchvision.transforms.RandomSolarize; BYOL uses threshold 0.5).
type RandomSolarize struct {
	Threshold float64
	P         float64
}

// Apply solarizes a copy of img with probability P; img is not modified.
func (t *RandomSolarize) Apply(img *Image, rng *rand.Rand) *Image { return applyVia(t, img, rng) }

func (t *RandomSolarize) applyOwned(img *Image, owned bool, rng *rand.Rand) (*Image, bool) {
	img.check("RandomSolarize")
	if rng.Float64() >= t.P {
		return img, owned
	}
	img = own(img, owned)
	solarizeInPlace(img, float32(t.Threshold))
	return img, true
}
