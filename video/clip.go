package video

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/augment"
)

// ClipSpec is the shape of a clip: Frames frames taken Stride frames
// apart, cropped to Size×Size.
type ClipSpec struct {
	Frames int // default 8
	Stride int // default 2
	Size   int // default 56
}

// Defaults fills zero fields.
func (s *ClipSpec) Defaults() {
	if s.Frames == 0 {
		s.Frames = 8
	}
	if s.Stride == 0 {
		s.Stride = 2
	}
	if s.Size == 0 {
		s.Size = 56
	}
}

// Validate reports a non-positive field.
func (s ClipSpec) Validate() error {
	if s.Frames < 1 || s.Stride < 1 || s.Size < 1 {
		return fmt.Errorf("video: clip of %d frames, stride %d, size %d: all must be ≥ 1", s.Frames, s.Stride, s.Size)
	}
	return nil
}

// Span returns the number of video frames a clip covers.
func (s ClipSpec) Span() int { return (s.Frames-1)*s.Stride + 1 }

// Numel returns the number of values of one clip tensor [Frames, Size, Size, 3].
func (s ClipSpec) Numel() int { return s.Frames * s.Size * s.Size * 3 }

// RandomStart draws a clip start uniformly over a video of n frames
// (temporal jitter); clips of longer span than the video start at 0 and
// repeat its last frame.
func (s ClipSpec) RandomStart(n int, rng *rand.Rand) int {
	return rng.IntN(max(1, n-s.Span()+1))
}

// EvenStarts returns k clip starts spread evenly over a video of n frames,
// the first at 0 and the last ending on the final frame.
func (s ClipSpec) EvenStarts(n, k int) []int {
	out := make([]int, k)
	room := max(0, n-s.Span())
	for i := range out {
		if k > 1 {
			out[i] = int(math.Round(float64(i) * float64(room) / float64(k-1)))
		}
	}
	return out
}

// frameIndex returns the video frame of clip frame k (clamped to the last).
func (s ClipSpec) frameIndex(start, k, n int) int { return min(start+k*s.Stride, n-1) }

// Augment is one spatial augmentation drawn per clip and applied to
// every frame: a random resized crop (scale ScaleMin…1, aspect 3/4…4/3),
// a horizontal flip with probability Flip, colour jitter (brightness,
// contrast, saturation by up to Jitter) with probability JitterP, and
// grayscale with probability Gray. The zero value is the evaluation view:
// the central square of the frame scaled to Size.
type Augment struct {
	ScaleMin      float64 // 0: no random crop (central square)
	Flip          float64
	Jitter        float64
	JitterP, Gray float64
}

// SSLAugment is the pretraining augmentation (CVRL's spatial part:
// crop scale 0.3…1, flip, colour jitter 0.4 with p 0.8, grayscale p 0.2).
var SSLAugment = Augment{ScaleMin: 0.3, Flip: 0.5, Jitter: 0.4, JitterP: 0.8, Gray: 0.2}

// TrainAugment is the supervised fine-tuning augmentation (crop and flip).
var TrainAugment = Augment{ScaleMin: 0.3, Flip: 0.5}

// Kinetics normalisation, as torchvision's video models use.
var (
	Mean = [3]float32{0.43216, 0.394666, 0.37645}
	Std  = [3]float32{0.22803, 0.22145, 0.216989}
)

// clipParams is one draw of Augment.
type clipParams struct {
	top, left, h, w int
	flip            bool
	jitter          bool
	b, c, s         float64
	gray            bool
}

// draw draws one clip's parameters for frames of fh×fw; a nil rng gives
// the evaluation view.
func (a Augment) draw(fh, fw int, rng *rand.Rand) clipParams {
	var p clipParams
	if rng == nil { // the evaluation view
		side := min(fh, fw)
		p.top, p.left, p.h, p.w = (fh-side)/2, (fw-side)/2, side, side
		return p
	}
	if a.ScaleMin > 0 {
		rrc := augment.RandomResizedCrop{Scale: augment.Range{Min: a.ScaleMin, Max: 1}, Ratio: augment.Range{Min: 3.0 / 4, Max: 4.0 / 3}}
		p.top, p.left, p.h, p.w = rrc.Params(fh, fw, rng)
	} else {
		side := min(fh, fw)
		p.top, p.left, p.h, p.w = (fh-side)/2, (fw-side)/2, side, side
	}
	p.flip = rng.Float64() < a.Flip
	if a.Jitter > 0 && rng.Float64() < a.JitterP {
		p.jitter = true
		f := func() float64 { return 1 - a.Jitter + 2*a.Jitter*rng.Float64() }
		p.b, p.c, p.s = f(), f(), f()
	}
	p.gray = rng.Float64() < a.Gray
	return p
}

// render writes frame f (after p) as a normalised Size×Size×3 image into
// dst; motion frames (raw=true) skip colour changes and normalisation.
func (p clipParams) render(f *Frames, idx, size int, raw bool) *augment.Image {
	src := augment.NewImage(f.H, f.W, 3)
	for i, v := range f.Frame(idx) {
		src.Pix[i] = float32(v) / 255
	}
	img := augment.ResizedCrop(src, p.top, p.left, p.h, p.w, augment.Square(size), augment.Bilinear, true)
	if p.flip {
		img = augment.HFlip(img)
	}
	if !raw {
		if p.jitter {
			img = augment.AdjustBrightness(img, p.b)
			img = augment.AdjustContrast(img, p.c)
			img = augment.AdjustSaturation(img, p.s)
		}
		if p.gray {
			img = augment.ToGrayscale(img, 3)
		}
	}
	return img
}

// Clip writes the clip of f starting at start, augmented by p, into dst
// ([Frames, Size, Size, 3], normalised with Mean and Std).
func (s ClipSpec) clip(f *Frames, start int, p clipParams, dst []float32) {
	n := s.Size * s.Size * 3
	for k := 0; k < s.Frames; k++ {
		img := p.render(f, s.frameIndex(start, k, f.N), s.Size, false)
		d := dst[k*n : (k+1)*n]
		for i, v := range img.Pix {
			c := i % 3
			d[i] = (v - Mean[c]) / Std[c]
		}
	}
}

// MotionScale multiplies frame differences so that their spread is near
// that of normalised RGB (a difference of one grey level in 16 is 1).
const MotionScale = 16

// motion writes the frame differences of the clip starting at start:
// frame k is (f[k+1] − f[k])·MotionScale over the clip's Frames+1 sampled
// frames, a cheap stand-in for optical flow, with the same crop and flip
// as the RGB view and no colour changes.
func (s ClipSpec) motion(f *Frames, start int, p clipParams, dst []float32) {
	n := s.Size * s.Size * 3
	prev := p.render(f, s.frameIndex(start, 0, f.N), s.Size, true)
	for k := 0; k < s.Frames; k++ {
		cur := p.render(f, s.frameIndex(start, k+1, f.N), s.Size, true)
		d := dst[k*n : (k+1)*n]
		for i := range d {
			d[i] = (cur.Pix[i] - prev.Pix[i]) * MotionScale
		}
		prev = cur
	}
}
