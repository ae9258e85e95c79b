package detection

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/autograd/gradcheck"
	"github.com/contrastive-ssl/contrastive/detection/dataset"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// TestLossGradient compares Loss's analytic gradient with central finite
// differences of its value, in float64 over float32 logits kept away from
// the clamp and the L1 kinks.
func TestLossGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	boxes := [][]dataset.Box{{{X0: 4, Y0: 8, X1: 28, Y1: 30, Class: 1}, {X0: 20, Y0: 1, X1: 31, Y1: 12}}, {{X0: 0, Y0: 0, X1: 16, Y1: 16, Class: 1}}}
	tg := BuildTargets(boxes, 32, 32, 2)
	out := tensor.New(2, 4, 4, 6)
	for i := range out.Data {
		out.Data[i] = float32(rng.NormFloat64() * 2)
	}
	_, grad := Loss(out, tg, DefaultLossWeights)
	const eps = 1e-3
	for i := range out.Data {
		orig := out.Data[i]
		out.Data[i] = orig + eps
		lp, _ := Loss(out, tg, DefaultLossWeights)
		out.Data[i] = orig - eps
		lm, _ := Loss(out, tg, DefaultLossWeights)
		out.Data[i] = orig
		num := (lp.Total - lm.Total) / (float64(float32(orig+eps)) - float64(float32(orig-eps)))
		if d := math.Abs(num - float64(grad.Data[i])); d > 2e-3*math.Max(1, math.Abs(num)) {
			t.Errorf("element %d (channel %d): analytic %.6g, numeric %.6g", i, i%6, grad.Data[i], num)
		}
	}
}

// TestFocalHand: the terms of eq. 1 at a few hand-computed points.
func TestFocalHand(t *testing.T) {
	// Logit 0: p = 1/2. Positive: −log(1/2)·(1/2)² = 0.17329.
	if l, _ := focal(0, 1); math.Abs(l-math.Ln2/4) > 1e-12 {
		t.Errorf("positive at p=1/2: %v, want %v", l, math.Ln2/4)
	}
	// Negative with y = 1/2: (1/2)⁴·(1/2)²·log 2 = log 2 / 64.
	if l, _ := focal(0, 0.5); math.Abs(l-math.Ln2/64) > 1e-12 {
		t.Errorf("negative at p=1/2, y=1/2: %v, want %v", l, math.Ln2/64)
	}
	// Beyond the clamp the gradient is zero and the loss that of p = 1e-4.
	if l, d := focal(-20, 1); d != 0 || math.Abs(l-(-math.Log(1e-4)*(1-1e-4)*(1-1e-4))) > 1e-9 {
		t.Errorf("clamped: loss %v, gradient %v", l, d)
	}
}

// TestUpsample2x checks values by hand and the gradient (each input
// receives the sum of its 2×2 block) by finite differences.
func TestUpsample2x(t *testing.T) {
	x := tensor.FromSlice([]float32{1, 10, 2, 20, 3, 30, 4, 40}, 1, 2, 2, 2)
	y := Upsample2x(autograd.Const(x))
	want := []float32{1, 10, 1, 10, 2, 20, 2, 20, 1, 10, 1, 10, 2, 20, 2, 20, 3, 30, 3, 30, 4, 40, 4, 40, 3, 30, 3, 30, 4, 40, 4, 40}
	for i, v := range want {
		if y.Data.Data[i] != v {
			t.Fatalf("Upsample2x = %v, want %v", y.Data.Data, want)
		}
	}
	w := tensor.New(1, 4, 4, 2)
	for i := range w.Data {
		w.Data[i] = float32(i%7) - 3
	}
	in := tensor.New(1, 2, 2, 2)
	for i := range in.Data {
		in.Data[i] = float32(i) / 3
	}
	err := gradcheck.Check(func(v []*autograd.Value) *autograd.Value {
		return autograd.Sum(autograd.Mul(Upsample2x(v[0]), autograd.Const(w)), nil, false)
	}, []*tensor.Tensor{in}, gradcheck.Options{})
	if err != nil {
		t.Error(err)
	}
}

// TestTargets: a 16×24-pixel box centred at (20, 12) on a 32×32 input is
// the cell (2, 1) with offset (0.5, 0.5), size 3×2 cells and radius
// GaussianRadius(2, 3) = 0 (a single peak of 1).
func TestTargets(t *testing.T) {
	// CenterNet's gaussian_radius((h, w)) in Python gives r1, r2, r3 =
	// 4.77842, 9.21900, 0.65812 for (2, 3) and 19.07485, 36.73320, 2.73320
	// for (10, 10); the radius is the smallest.
	for _, c := range []struct{ h, w, want float64 }{{2, 3, 0.6581245772583584}, {10, 10, 2.7332005306815113}} {
		if r := GaussianRadius(c.h, c.w, 0.7); math.Abs(r-c.want) > 1e-12 {
			t.Errorf("GaussianRadius(%v, %v) = %v, want %v", c.h, c.w, r, c.want)
		}
	}
	tg := BuildTargets([][]dataset.Box{{{X0: 8, Y0: 4, X1: 32, Y1: 20}}}, 32, 32, 1)
	if len(tg.Objects) != 1 {
		t.Fatalf("objects %+v", tg.Objects)
	}
	o := tg.Objects[0]
	if o.Index != 1*4+2 || o.W != 3 || o.H != 2 || o.OffX != 0.5 || o.OffY != 0.5 {
		t.Errorf("object %+v, want index 6, size 3×2, offset 0.5", o)
	}
	n := 0
	for i, v := range tg.Heat {
		if v != 0 {
			n++
			if i != 6 || v != 1 {
				t.Errorf("heat[%d] = %v", i, v)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d non-zero heat cells, want 1", n)
	}
}

// TestDecodeHand: one peak at cell (row 1, col 2) of class 1 with logit 2,
// size 3×2 cells, offset (0.25, 0.5): a box centred at (18, 12) of
// 24×16 pixels, halved by sx = sy = 2 back to the original image.
func TestDecodeHand(t *testing.T) {
	out := tensor.New(1, 4, 4, 6)
	for i := 0; i < 16; i++ {
		out.Data[i*6], out.Data[i*6+1] = -9, -9
	}
	c := (1*4 + 2) * 6
	out.Data[c+1] = 2
	out.Data[c+2], out.Data[c+3], out.Data[c+4], out.Data[c+5] = 3, 2, 0.25, 0.5
	out.Data[(1*4+3)*6+1] = 1 // a neighbour, not a peak
	dets := Decode(out, 0, 2, DecodeOptions{}, 2, 2, 100, 100)
	if len(dets) != 1 {
		t.Fatalf("detections %+v, want one", dets)
	}
	want := dataset.Box{X0: 3, Y0: 2, X1: 15, Y1: 10, Class: 1}
	if d := dets[0]; d.Box != want || math.Abs(d.Score-1/(1+math.Exp(-2))) > 1e-9 {
		t.Errorf("detection %+v, want %+v with score σ(2)", d, want)
	}
}

// TestAugmentKeepsBoxes: after zoom, crop and flip, every box still covers
// the bright square it was drawn on: the mean brightness inside the box is
// that of the square.
func TestAugmentKeepsBoxes(t *testing.T) {
	ex := squares(20, 96, 1, 7)
	rng := rand.New(rand.NewPCG(8, 8))
	aug := TrainAugment{Size: 64, ScaleMin: 0.5, ScaleMax: 1.5, Flip: true, MinVisible: 0.5}
	kept := 0
	for i := 0; i < 200; i++ {
		e := ex[i%len(ex)]
		img, boxes := aug.Apply(e, rng)
		if img.H != 64 || img.W != 64 {
			t.Fatalf("size %dx%d", img.H, img.W)
		}
		for _, b := range boxes {
			kept++
			if b.X0 < 0 || b.Y0 < 0 || b.X1 > 64 || b.Y1 > 64 {
				t.Fatalf("box %+v outside the crop", b)
			}
			// Look at the box shrunk by 2 pixels (resampling blurs the edge).
			var s, n float64
			for y := int(b.Y0) + 2; y < int(b.Y1)-2; y++ {
				for x := int(b.X0) + 2; x < int(b.X1)-2; x++ {
					s += float64(img.Pix[(y*64+x)*3])
					n++
				}
			}
			if n > 0 && s/n < 0.85 {
				t.Fatalf("draw %d: box %+v covers mean brightness %.2f, want the square's 0.90", i, b, s/n)
			}
		}
	}
	if kept < 150 {
		t.Errorf("only %d boxes kept in 200 draws: the crop should keep boxes that fit", kept)
	}
}

// TestPrepareImage: the short side goes to the requested length and boxes
// scale with it; a strip-shaped image is capped at 4× that on its long
// side.
func TestPrepareImage(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 40, 20))
	e := PrepareImage("a", img, []dataset.Box{{X0: 10, Y0: 5, X1: 20, Y1: 15}}, 10)
	if e.W != 20 || e.H != 10 || e.SX != 0.5 || e.Boxes[0] != (dataset.Box{X0: 5, Y0: 2.5, X1: 10, Y1: 7.5}) || e.OrigBoxes[0].X1 != 20 {
		t.Errorf("prepared %dx%d, scale %v, boxes %+v", e.W, e.H, e.SX, e.Boxes)
	}
	strip := PrepareImage("b", image.NewGray(image.Rect(0, 0, 1000, 2)), nil, 8)
	if strip.W != 32 || strip.H != 1 {
		t.Errorf("strip prepared as %dx%d, want 32x1", strip.W, strip.H)
	}
}
