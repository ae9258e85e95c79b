package augment

import (
	"math"
	"testing"
)

// rgb2hsv is torchvision's _rgb2hsv for one pixel (after Pillow's
// Convert.c): h and s are 0 where max == min.
func rgb2hsv(r, g, b float32) (h, s, v float32) {
	maxc := max(r, g, b)
	minc := min(r, g, b)
	eqc := maxc == minc
	cr := maxc - minc
	den := maxc
	crd := cr
	if eqc {
		den, crd = 1, 1
	}
	s = cr / den
	rc := (maxc - r) / crd
	gc := (maxc - g) / crd
	bc := (maxc - b) / crd
	switch {
	case maxc == r:
		h = bc - gc
	case maxc == g:
		h = 2 + rc - bc
	default:
		h = 4 + gc - rc
	}
	h = h/6 + 1
	if h >= 1 { // torch.fmod(h/6 + 1, 1) with h/6 + 1 > 0
		h--
	}
	return h, s, maxc
}

// hsv2rgb is torchvision's _hsv2rgb for one pixel.
func hsv2rgb(h, s, v float32) (r, g, b float32) {
	i6 := float32(math.Floor(float64(h * 6)))
	f := h*6 - i6
	p := clamp01(v * (1 - s))
	q := clamp01(v * (1 - s*f))
	t := clamp01(v * (1 - s*(1-f)))
	switch int(i6) % 6 {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	default:
		return v, p, q
	}
}

// TestShiftHueMatchesRoundTrip checks the folded hue shift against the
// literal port of torchvision's _rgb2hsv / (h + f) mod 1 / _hsv2rgb on
// random pixels, ties (two equal channels) and grays.
func TestShiftHueMatchesRoundTrip(t *testing.T) {
	rng := newRNG(53)
	worst := 0.0
	for n := 0; n < 200000; n++ {
		r, g, b := rng.Float32(), rng.Float32(), rng.Float32()
		switch n % 5 {
		case 1:
			g = r
		case 2:
			b = g
		case 3:
			r, g = b, b
		}
		f := float32(rng.Float64() - 0.5)
		if n%7 == 0 {
			f = []float32{-0.5, 0.5, 0, 1.0 / 6, -1.0 / 3}[n%5]
		}
		h, s, v := rgb2hsv(r, g, b)
		h += f
		h -= float32(math.Floor(float64(h)))
		wr, wg, wb := hsv2rgb(h, s, v)
		gr, gg, gb := shiftHue(r, g, b, 6*f)
		for _, d := range []float32{gr - wr, gg - wg, gb - wb} {
			worst = max(worst, math.Abs(float64(d)))
		}
		if worst > 2e-6 {
			t.Fatalf("rgb (%g %g %g) hue %g: got (%g %g %g), round trip (%g %g %g)", r, g, b, f, gr, gg, gb, wr, wg, wb)
		}
	}
	t.Logf("max |diff| %.3g", worst)
}
