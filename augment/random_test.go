package augment

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

// randImage returns an h×w×c image of uniform noise.
func randImage(h, w, c int, seed uint64) *Image {
	rng := newRNG(seed)
	img := NewImage(h, w, c)
	for i := range img.Pix {
		img.Pix[i] = rng.Float32()
	}
	return img
}

// withinBinomial fails unless count successes out of n are within 5
// standard deviations of n·p.
func withinBinomial(t *testing.T, what string, count, n int, p float64) {
	t.Helper()
	mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
	if math.Abs(float64(count)-mean) > 5*sd+1e-9 {
		t.Errorf("%s: %d of %d, want %.0f ± %.0f", what, count, n, mean, 5*sd)
	}
}

func TestRandomResizedCropParamsBounds(t *testing.T) {
	rrc := NewRandomResizedCrop(32)
	rng := newRNG(1)
	// Mean and standard deviation of the area fraction of torchvision
	// 0.14's RandomResizedCrop.get_params over 20,000 draws per shape.
	for _, tc := range []struct {
		h, w           int
		torchMean, tsd float64
	}{{32, 32, 0.4877, 0.2401}, {375, 500, 0.4349, 0.2185}, {20, 24, 0.4778, 0.2389}, {500, 333, 0.3893, 0.1897}} {
		h, w := tc.h, tc.w
		var sumArea float64
		n := 20000
		for range n {
			top, left, ch, cw := rrc.Params(h, w, rng)
			if top < 0 || left < 0 || ch < 1 || cw < 1 || top+ch > h || left+cw > w {
				t.Fatalf("%dx%d: box %d,%d %dx%d outside the image", h, w, top, left, ch, cw)
			}
			// Rounding the sides to integers moves area and ratio by at
			// most half a pixel per side.
			area := float64(ch*cw) / float64(h*w)
			lo := float64((ch-1)*(cw-1)) / float64(h*w)
			hi := float64((ch+1)*(cw+1)) / float64(h*w)
			if hi < rrc.Scale.Min || lo > rrc.Scale.Max {
				t.Fatalf("%dx%d: area fraction %.4f outside %v", h, w, area, rrc.Scale)
			}
			rLo, rHi := (float64(cw)-0.5)/(float64(ch)+0.5), (float64(cw)+0.5)/(float64(ch)-0.5)
			if rHi < rrc.Ratio.Min || rLo > rrc.Ratio.Max {
				// Only the central fallback may leave the ratio range, and
				// only for very elongated images.
				if float64(w)/float64(h) >= rrc.Ratio.Min && float64(w)/float64(h) <= rrc.Ratio.Max {
					t.Fatalf("%dx%d: aspect %d/%d outside %v", h, w, cw, ch, rrc.Ratio)
				}
			}
			sumArea += area
		}
		// Same sampler, same distribution: the means agree within five
		// standard errors of the two estimates.
		se := tc.tsd * math.Sqrt(1/float64(n)+1/20000.0)
		if mean := sumArea / float64(n); math.Abs(mean-tc.torchMean) > 5*se {
			t.Errorf("%dx%d: mean area fraction %.4f, torchvision %.4f ± %.4f", h, w, mean, tc.torchMean, 5*se)
		}
	}
}

func TestRandomResizedCropFallback(t *testing.T) {
	// A 10×100 image cannot hold a box of the whole area with ratio in
	// [3/4, 4/3]: all ten tries fail and torchvision crops the centre at
	// the largest admissible ratio: h = 10, w = round(10·4/3) = 13.
	rrc := NewRandomResizedCrop(8)
	rrc.Scale = Range{1, 1}
	top, left, h, w := rrc.Params(10, 100, newRNG(3))
	if top != 0 || left != 43 || h != 10 || w != 13 {
		t.Errorf("fallback box %d,%d %dx%d, want 0,43 10x13", top, left, h, w)
	}
	top, left, h, w = rrc.Params(100, 10, newRNG(3))
	if top != 43 || left != 0 || h != 13 || w != 10 {
		t.Errorf("tall fallback box %d,%d %dx%d, want 43,0 13x10", top, left, h, w)
	}
	out := rrc.Apply(randImage(10, 100, 3, 1), newRNG(4))
	if out.H != 8 || out.W != 8 || out.C != 3 {
		t.Errorf("output %dx%dx%d, want 8x8x3", out.H, out.W, out.C)
	}
}

func TestFlipFrequency(t *testing.T) {
	img := randImage(4, 5, 3, 2)
	flipped := HFlip(img)
	rng := newRNG(5)
	for _, p := range []float64{0, 0.3, 0.5, 1} {
		f := &RandomHorizontalFlip{P: p}
		n, count := 4000, 0
		for range n {
			out := f.Apply(img, rng)
			if d, _ := maxAbsDiff(out, flipped); d == 0 {
				count++
			} else if d, _ := maxAbsDiff(out, img); d != 0 {
				t.Fatal("output is neither the image nor its mirror")
			}
		}
		withinBinomial(t, "flips", count, n, p)
	}
	if d, _ := maxAbsDiff(HFlip(flipped), img); d != 0 {
		t.Error("HFlip twice is not the identity")
	}
}

func TestRandomApplyAndGrayscaleFrequency(t *testing.T) {
	img := randImage(3, 3, 3, 7)
	rng := newRNG(8)
	for _, p := range []float64{0.2, 0.8} {
		g := &RandomGrayscale{P: p}
		n, count := 4000, 0
		for range n {
			out := g.Apply(img, rng)
			if out.Pix[0] == out.Pix[1] && out.Pix[1] == out.Pix[2] {
				count++
			}
		}
		withinBinomial(t, "grayscale", count, n, p)
	}
	// 1-channel images pass through untouched.
	gray := randImage(3, 3, 1, 9)
	if out := (&RandomGrayscale{P: 1}).Apply(gray, rng); out.C != 1 {
		t.Errorf("RandomGrayscale on a gray image gave %d channels", out.C)
	}
}

func TestColorJitterParams(t *testing.T) {
	cj := NewColorJitter(0.4, 0.3, 0.2, 0.1)
	if cj.Brightness != (Range{0.6, 1.4}) || cj.Hue != (Range{-0.1, 0.1}) {
		t.Fatalf("NewColorJitter ranges %+v", cj)
	}
	rng := newRNG(11)
	orders := map[[4]int]int{}
	n := 24000
	for range n {
		p := cj.Params(rng)
		orders[p.Order]++
		if p.Brightness < 0.6 || p.Brightness > 1.4 || p.Contrast < 0.7 || p.Contrast > 1.3 ||
			p.Saturation < 0.8 || p.Saturation > 1.2 || p.Hue < -0.1 || p.Hue > 0.1 {
			t.Fatalf("factors out of range: %+v", p)
		}
	}
	if len(orders) != 24 {
		t.Fatalf("%d distinct orders, want all 24", len(orders))
	}
	for o, c := range orders {
		withinBinomial(t, "order", c, n, 1.0/24)
		s := o
		slices.Sort(s[:])
		if s != [4]int{0, 1, 2, 3} {
			t.Fatalf("order %v is not a permutation", o)
		}
	}
	// Disabled adjustments keep their identity factor.
	p := NewColorJitter(0, 0.5, 0, 0).Params(rng)
	if p.Brightness != 1 || p.Saturation != 1 || p.Hue != 0 || p.Contrast == 1 {
		t.Errorf("disabled factors %+v", p)
	}
}

func TestPermutationSet(t *testing.T) {
	set := PermutationSet(3, 100, PermutationSeed)
	if len(set) != 100 {
		t.Fatalf("%d permutations, want 100", len(set))
	}
	seen := map[[9]int]bool{}
	minD := 9
	for i, p := range set {
		var k [9]int
		copy(k[:], p)
		s := k
		slices.Sort(s[:])
		if s != [9]int{0, 1, 2, 3, 4, 5, 6, 7, 8} {
			t.Fatalf("perm %d = %v is not a permutation of 0..8", i, p)
		}
		if seen[k] {
			t.Fatalf("perm %d = %v repeated", i, p)
		}
		seen[k] = true
		for _, q := range set[:i] {
			d := 0
			for j := range p {
				if p[j] != q[j] {
					d++
				}
			}
			minD = min(minD, d)
		}
	}
	// Greedy max-min over all 9! permutations keeps every pair of the
	// first hundred at least 6 tiles apart (random ones get as close as 2).
	if minD < 6 {
		t.Errorf("minimum Hamming distance %d, want >= 6", minD)
	}
	again := PermutationSet(3, 100, PermutationSeed)
	if &again[0] != &set[0] {
		t.Error("the set is not cached")
	}
	other := PermutationSet(3, 5, 2)
	if slices.Equal(other[1], set[1]) && slices.Equal(other[2], set[2]) {
		t.Error("a different seed gave the same set")
	}
	if small := PermutationSet(2, 24, 1); len(small) != 24 {
		t.Errorf("2×2 grid: %d permutations, want all 24", len(small))
	}
}

func TestJigsawPatches(t *testing.T) {
	// Pixel (y, x) holds y/64 in channel 0 and x/64 in channel 1, so every
	// patch tells where it was cut from.
	const side = 48
	img := NewImage(side, side, 3)
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			img.Pix[(y*side+x)*3] = float32(y) / 64
			img.Pix[(y*side+x)*3+1] = float32(x) / 64
		}
	}
	j := NewJigsaw(12)
	rng := newRNG(13)
	perms := map[int]bool{}
	for range 300 {
		patches, perm := j.Patches(img, rng)
		perms[perm] = true
		order := j.perms()[perm]
		for k, p := range patches {
			if p.H != 12 || p.W != 12 || p.C != 3 {
				t.Fatalf("patch %d is %dx%dx%d", k, p.H, p.W, p.C)
			}
			y0, x0 := int(math.Round(float64(p.Pix[0])*64)), int(math.Round(float64(p.Pix[1])*64))
			cell := order[k]
			if cy, cx := cell/3*16, cell%3*16; y0 < cy || y0+12 > cy+16 || x0 < cx || x0+12 > cx+16 {
				t.Fatalf("patch %d from (%d,%d) is not inside cell %d", k, y0, x0, cell)
			}
			for y := 0; y < 12; y++ { // a contiguous crop
				if got := int(math.Round(float64(p.Pix[y*12*3+11*3+1]) * 64)); got != x0+11 {
					t.Fatalf("patch %d row %d ends at x=%d, want %d", k, y, got, x0+11)
				}
			}
		}
	}
	if len(perms) < 80 {
		t.Errorf("%d distinct permutations in 300 draws of 100, want most of them", len(perms))
	}
	strip := j.Apply(img, newRNG(1))
	if strip.H != 9*12 || strip.W != 12 {
		t.Errorf("strip %dx%d, want 108x12", strip.H, strip.W)
	}
	patches, _ := j.Patches(img, newRNG(1))
	if d, _ := maxAbsDiff(&Image{H: 12, W: 12, C: 3, Pix: strip.Pix[4*12*12*3 : 5*12*12*3]}, patches[4]); d != 0 {
		t.Error("strip rows 48..59 are not patch 4")
	}
	if m := Mosaic(strip, 3, 1); m.H != 38 || m.W != 38 {
		t.Errorf("mosaic %dx%d, want 38x38", m.H, m.W)
	}
}

func TestRandomRot90(t *testing.T) {
	img := randImage(5, 7, 3, 17)
	counts := [4]int{}
	rng := newRNG(19)
	for range 2000 {
		out, k := RandomRot90(img, rng)
		counts[k]++
		if d, _ := maxAbsDiff(out, Rot90(img, k)); d != 0 {
			t.Fatal("RandomRot90 image differs from Rot90 of its label")
		}
	}
	for k, c := range counts {
		withinBinomial(t, "rotation label "+string(rune('0'+k)), c, 2000, 0.25)
	}
	back := Rot90(Rot90(Rot90(Rot90(img, 1), 1), 1), 1)
	if d, _ := maxAbsDiff(back, img); d != 0 {
		t.Error("four quarter turns are not the identity")
	}
	sq := randImage(9, 9, 3, 23)
	if d, _ := maxAbsDiff(Rotate(sq, 90, Nearest, nil), Rot90(sq, 1)); d != 0 {
		t.Error("Rotate(90°, nearest) differs from Rot90(1) on a square image")
	}
}

func TestRandomRotationRange(t *testing.T) {
	img := randImage(12, 12, 3, 29)
	r := NewRandomRotation(0)
	if d, _ := maxAbsDiff(r.Apply(img, newRNG(1)), img); d != 0 {
		t.Error("a zero-degree rotation changed the image")
	}
	r = &RandomRotation{Degrees: Range{90, 90}, Interpolation: Nearest}
	if d, _ := maxAbsDiff(r.Apply(img, newRNG(1)), Rot90(img, 1)); d != 0 {
		t.Error("RandomRotation over [90, 90] is not a quarter turn")
	}
}

func TestBlurEdgeCases(t *testing.T) {
	for _, tc := range []struct{ i, n, want int }{{-1, 5, 1}, {-4, 5, 4}, {5, 5, 3}, {8, 5, 0}, {9, 5, 1}, {-3, 1, 0}, {13, 5, 3}} {
		if got := reflect(tc.i, tc.n); got != tc.want {
			t.Errorf("reflect(%d, %d) = %d, want %d", tc.i, tc.n, got, tc.want)
		}
	}
	// A kernel wider than the image is allowed and keeps a constant image.
	flat := NewImage(3, 4, 3)
	for i := range flat.Pix {
		flat.Pix[i] = 0.25
	}
	out := Blur(flat, 23, 2)
	for _, v := range out.Pix {
		if math.Abs(float64(v)-0.25) > 1e-6 {
			t.Fatalf("blurred constant image has %g, want 0.25", v)
		}
	}
	// The kernel sums to one and is symmetric.
	k := gaussianKernel1D(9, 1.5)
	var s float32
	for i, w := range k {
		s += w
		if w != k[len(k)-1-i] {
			t.Fatalf("kernel not symmetric: %v", k)
		}
	}
	if math.Abs(float64(s)-1) > 1e-6 {
		t.Errorf("kernel sums to %g", s)
	}
	if KernelSizeFor(224) != 23 || KernelSizeFor(96) != 9 || KernelSizeFor(32) != 3 || KernelSizeFor(8) != 3 {
		t.Errorf("KernelSizeFor: 224→%d 96→%d 32→%d 8→%d, want 23 9 3 3",
			KernelSizeFor(224), KernelSizeFor(96), KernelSizeFor(32), KernelSizeFor(8))
	}
}

func TestGrayscaleOfGray(t *testing.T) {
	// torchvision returns one channel here even when asked for three; the
	// package returns what was asked for.
	g := randImage(4, 4, 1, 31)
	out := ToGrayscale(g, 3)
	if out.C != 3 {
		t.Fatalf("%d channels, want 3", out.C)
	}
	for p := 0; p < 16; p++ {
		for c := 0; c < 3; c++ {
			if out.Pix[3*p+c] != g.Pix[p] {
				t.Fatalf("pixel %d channel %d = %g, want %g", p, c, out.Pix[3*p+c], g.Pix[p])
			}
		}
	}
}

func TestUnnormalizeInvertsNormalize(t *testing.T) {
	img := randImage(5, 6, 3, 37)
	n := (&Normalize{Mean: CIFAR10Mean, Std: CIFAR10Std}).Apply(img, nil)
	back := Unnormalize(n, CIFAR10Mean, CIFAR10Std)
	if d, _ := maxAbsDiff(back, img); d > 1e-6 {
		t.Errorf("round trip off by %g", d)
	}
}
