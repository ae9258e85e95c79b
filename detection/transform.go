package detection

import (
	"fmt"
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/detection/dataset"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Example is one image prepared for the detector: 8-bit RGB resized so
// that its short side is a fixed length, its boxes in those pixels, and
// the original size and boxes for evaluation.
type Example struct {
	Name      string
	H, W      int
	Pix       []uint8 // H·W·3, RGB
	Boxes     []dataset.Box
	OrigW     int
	OrigH     int
	OrigBoxes []dataset.Box
	SX, SY    float64 // prepared pixels per original pixel
}

// float returns the image with values in [0, 1].
func (e *Example) float() *augment.Image {
	img := augment.NewImage(e.H, e.W, 3)
	for i, v := range e.Pix {
		img.Pix[i] = float32(v) / 255
	}
	return img
}

// Prepare decodes every sample of ds (in parallel) and resizes it so that
// its short side is short pixels (bilinear, antialiased; the long side is
// capped at 4·short), scaling the boxes alike. Boxes with no area are dropped from the training boxes.
func Prepare(ds *dataset.Dataset, short, workers int) ([]*Example, error) {
	if short < Stride {
		return nil, fmt.Errorf("detection: short side %d, want ≥ %d", short, Stride)
	}
	out := make([]*Example, len(ds.Samples))
	errs := make([]error, len(ds.Samples))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < max(workers, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = prepareOne(&ds.Samples[i], short)
			}
		}()
	}
	for i := range ds.Samples {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func prepareOne(s *dataset.Sample, short int) (*Example, error) {
	img, err := s.Decode()
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 1 || h < 1 {
		return nil, &dataset.FormatError{Path: s.Path, Msg: "empty image"}
	}
	if s.W != 0 && s.H != 0 && (s.W != w || s.H != h) {
		return nil, &dataset.FormatError{Path: s.Path, Msg: fmt.Sprintf("image is %d×%d, its annotation says %d×%d", w, h, s.W, s.H)}
	}
	return PrepareImage(s.Name, img, s.Boxes, short), nil
}

// PrepareImage is Prepare for one decoded image and its boxes (nil when
// there are none, as for prediction).
func PrepareImage(name string, img image.Image, boxes []dataset.Box, short int) *Example {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	src := augment.NewImage(h, w, 3)
	rgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(rgba, rgba.Bounds(), img, b.Min, draw.Src)
	for i := 0; i < w*h; i++ {
		for c := 0; c < 3; c++ {
			src.Pix[i*3+c] = float32(rgba.Pix[i*4+c]) / 255
		}
	}
	// Short side to short pixels, but the long side at most 4·short (a
	// strip-shaped image must not become huge).
	scale := math.Min(float64(short)/float64(min(w, h)), 4*float64(short)/float64(max(w, h)))
	nw, nh := max(1, int(math.Round(float64(w)*scale))), max(1, int(math.Round(float64(h)*scale)))
	r := augment.Resize(src, augment.Size{H: nh, W: nw}, augment.Bilinear, true)
	e := &Example{Name: name, H: nh, W: nw, Pix: make([]uint8, nh*nw*3), OrigW: w, OrigH: h, OrigBoxes: boxes,
		SX: float64(nw) / float64(w), SY: float64(nh) / float64(h)}
	for i, v := range r.Pix {
		e.Pix[i] = uint8(math.Round(float64(min(max(v, 0), 1)) * 255))
	}
	for _, bx := range boxes {
		nb := bx
		nb.X0, nb.X1 = bx.X0*e.SX, bx.X1*e.SX
		nb.Y0, nb.Y1 = bx.Y0*e.SY, bx.Y1*e.SY
		if nb.Area() > 0 {
			e.Boxes = append(e.Boxes, nb)
		}
	}
	return e
}

// TrainAugment is the box-aware training augmentation: a random zoom
// (scale jitter) of the prepared image by a factor in [ScaleMin,
// ScaleMax], a Size×Size crop placed so that it holds every box when they
// fit (anywhere otherwise; zoomed-out images are padded), and a horizontal
// flip with probability 1/2. Boxes follow the image; a box cut by the crop
// is clipped and kept if at least MinVisible of its area remains.
type TrainAugment struct {
	Size               int
	ScaleMin, ScaleMax float64
	Flip               bool
	MinVisible         float64
}

// Apply returns the augmented Size×Size image (values in [0, 1], padding
// 0) and its boxes.
func (a TrainAugment) Apply(e *Example, rng *rand.Rand) (*augment.Image, []dataset.Box) {
	z := a.ScaleMin + rng.Float64()*(a.ScaleMax-a.ScaleMin)
	// The output shows an L×L window of the prepared image (short side
	// = the prepared size) magnified by s = Size/L.
	s := z * float64(a.Size) / float64(min(e.H, e.W))
	L := float64(a.Size) / s
	left := a.place(rng, float64(e.W), L, e.Boxes, func(b dataset.Box) (float64, float64) { return b.X0, b.X1 })
	top := a.place(rng, float64(e.H), L, e.Boxes, func(b dataset.Box) (float64, float64) { return b.Y0, b.Y1 })
	out := augment.NewImage(a.Size, a.Size, 3)
	// Source region inside the image, in whole pixels, and where it lands.
	x0, y0 := max(0, int(math.Floor(left))), max(0, int(math.Floor(top)))
	x1, y1 := min(e.W, int(math.Ceil(left+L))), min(e.H, int(math.Ceil(top+L)))
	if x1 > x0 && y1 > y0 {
		ox, oy := int(math.Round((float64(x0)-left)*s)), int(math.Round((float64(y0)-top)*s))
		ow, oh := int(math.Round(float64(x1-x0)*s)), int(math.Round(float64(y1-y0)*s))
		ow, oh = min(ow, a.Size-max(ox, 0)), min(oh, a.Size-max(oy, 0))
		if ow > 0 && oh > 0 {
			// Crop from the 8-bit image without converting all of it.
			crop := augment.NewImage(y1-y0, x1-x0, 3)
			for y := y0; y < y1; y++ {
				row := e.Pix[(y*e.W+x0)*3 : (y*e.W+x1)*3]
				dst := crop.Pix[(y-y0)*(x1-x0)*3:]
				for i, v := range row {
					dst[i] = float32(v) / 255
				}
			}
			r := augment.Resize(crop, augment.Size{H: oh, W: ow}, augment.Bilinear, s < 1)
			for y := 0; y < oh; y++ {
				ty := oy + y
				if ty < 0 || ty >= a.Size {
					continue
				}
				for x := 0; x < ow; x++ {
					tx := ox + x
					if tx < 0 || tx >= a.Size {
						continue
					}
					copy(out.Pix[(ty*a.Size+tx)*3:(ty*a.Size+tx)*3+3], r.Pix[(y*ow+x)*3:(y*ow+x)*3+3])
				}
			}
			left, top = float64(x0)-float64(ox)/s, float64(y0)-float64(oy)/s
		}
	}
	flip := a.Flip && rng.IntN(2) == 1
	if flip {
		out = augment.HFlip(out)
	}
	S := float64(a.Size)
	var boxes []dataset.Box
	for _, b := range e.Boxes {
		nb := b
		nb.X0, nb.X1 = (b.X0-left)*s, (b.X1-left)*s
		nb.Y0, nb.Y1 = (b.Y0-top)*s, (b.Y1-top)*s
		full := nb.Area()
		nb.X0, nb.X1 = clamp(nb.X0, 0, S), clamp(nb.X1, 0, S)
		nb.Y0, nb.Y1 = clamp(nb.Y0, 0, S), clamp(nb.Y1, 0, S)
		if full <= 0 || nb.Area() < a.MinVisible*full || nb.W() < 1 || nb.H() < 1 {
			continue
		}
		if flip {
			nb.X0, nb.X1 = S-nb.X1, S-nb.X0
		}
		boxes = append(boxes, nb)
	}
	return out, boxes
}

// place picks the window's start along one axis of length n: uniformly
// among the starts that keep every box inside the window, or among all
// starts (including padding when L > n) when the boxes do not fit.
func (a TrainAugment) place(rng *rand.Rand, n, L float64, boxes []dataset.Box, span func(dataset.Box) (float64, float64)) float64 {
	lo, hi := math.Min(0, n-L), math.Max(0, n-L)
	if len(boxes) > 0 {
		u0, u1 := math.Inf(1), math.Inf(-1)
		for _, b := range boxes {
			b0, b1 := span(b)
			u0, u1 = math.Min(u0, b0), math.Max(u1, b1)
		}
		if l, h := math.Max(lo, u1-L), math.Min(hi, u0); l <= h {
			lo, hi = l, h
		}
	}
	return lo + rng.Float64()*(hi-lo)
}

// EvalInput returns the prepared image padded on the right and bottom to
// multiples of 32 (the backbone's coarsest stride), values in [0, 1].
func EvalInput(e *Example) *augment.Image {
	ph, pw := (e.H+31)/32*32, (e.W+31)/32*32
	out := augment.NewImage(ph, pw, 3)
	for y := 0; y < e.H; y++ {
		for i, v := range e.Pix[y*e.W*3 : (y+1)*e.W*3] {
			out.Pix[y*pw*3+i] = float32(v) / 255
		}
	}
	return out
}

// Batch stacks images of one size into an NHWC tensor normalised with
// mean and std ((v − mean)/std per channel); padding pixels (0) become
// −mean/std like black pixels.
func Batch(imgs []*augment.Image, mean, std []float32) *tensor.Tensor {
	h, w := imgs[0].H, imgs[0].W
	t := tensor.New(len(imgs), h, w, 3)
	for n, img := range imgs {
		if img.H != h || img.W != w {
			panic(fmt.Sprintf("detection.Batch: image %d is %dx%d, want %dx%d", n, img.H, img.W, h, w))
		}
		dst := t.Data[n*h*w*3:]
		for i := 0; i < h*w; i++ {
			for c := 0; c < 3; c++ {
				dst[i*3+c] = (img.Pix[i*3+c] - mean[c]) / std[c]
			}
		}
	}
	return t
}
