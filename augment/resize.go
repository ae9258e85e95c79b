package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// Interpolation selects how resampling computes a pixel between source
// pixels (torchvision's InterpolationMode).
type Interpolation uint8

const (
	// Bilinear interpolates from the 2×2 nearest source pixels
	// (torchvision's default for resizing).
	Bilinear Interpolation = iota
	// Bicubic uses a 4×4 neighbourhood (cubic convolution, A = -0.75 as in
	// torch; A = -0.5 with antialias, as in torch and PIL).
	Bicubic
	// Nearest takes the closest source pixel (torchvision's default for
	// rotation; not supported by Resize).
	Nearest
)

var interpNames = [...]string{"bilinear", "bicubic", "nearest"}

func (m Interpolation) String() string {
	if int(m) < len(interpNames) {
		return interpNames[m]
	}
	return fmt.Sprintf("Interpolation(%d)", int(m))
}

// ParseInterpolation maps "bilinear", "bicubic" or "nearest" to its mode.
func ParseInterpolation(s string) (Interpolation, error) {
	for i, n := range interpNames {
		if s == n {
			return Interpolation(i), nil
		}
	}
	return 0, fmt.Errorf("augment: unknown interpolation %q (want bilinear, bicubic or nearest)", s)
}

// Size is an output size in pixels, height then width like torchvision's
// (h, w) sequences.
type Size struct{ H, W int }

// Square returns the size n×n.
func Square(n int) Size { return Size{n, n} }

// Resize resamples img to size, like torchvision.transforms.functional.resize
// on a float tensor with an explicit (h, w) size: torch's interpolate with
// align_corners=False, without antialiasing unless antialias is set
// (torchvision 0.14's default for tensors is antialias=False; PIL always
// antialiases). mode is Bilinear or Bicubic. Bicubic results are clamped
// to [0, 1] to keep the Image contract (torch leaves overshoot on floats).
func Resize(img *Image, size Size, mode Interpolation, antialias bool) *Image {
	img.check("Resize")
	return ResizedCrop(img, 0, 0, img.H, img.W, size, mode, antialias)
}

// Crop returns the height×width region of img whose top-left pixel is
// (top, left). The box must lie inside the image.
func Crop(img *Image, top, left, height, width int) *Image {
	img.check("Crop")
	checkBox("Crop", img, top, left, height, width)
	out := NewImage(height, width, img.C)
	rowLen := width * img.C
	for y := 0; y < height; y++ {
		src := ((top+y)*img.W + left) * img.C
		copy(out.Pix[y*rowLen:(y+1)*rowLen], img.Pix[src:src+rowLen])
	}
	return out
}

// CenterCrop returns the central size.H×size.W region of img, with the
// offsets of torchvision's center_crop (rounded half-way offsets). The size
// must not exceed the image.
func CenterCrop(img *Image, size Size) *Image {
	img.check("CenterCrop")
	top := int(math.RoundToEven(float64(img.H-size.H) / 2))
	left := int(math.RoundToEven(float64(img.W-size.W) / 2))
	return Crop(img, top, left, size.H, size.W)
}

func checkBox(op string, img *Image, top, left, height, width int) {
	if height < 1 || width < 1 || top < 0 || left < 0 || top+height > img.H || left+width > img.W {
		panic(fmt.Sprintf("augment.%s: box top=%d left=%d height=%d width=%d outside %dx%d image",
			op, top, left, height, width, img.H, img.W))
	}
}

// ResizedCrop crops the height×width box at (top, left) out of img and
// resizes it to size: torchvision.transforms.functional.resized_crop on a
// float tensor, with the semantics of Resize. The crop is resampled as an
// image of its own: source pixels outside the box are never read. The box
// must lie inside the image.
func ResizedCrop(img *Image, top, left, height, width int, size Size, mode Interpolation, antialias bool) *Image {
	img.check("ResizedCrop")
	checkBox("ResizedCrop", img, top, left, height, width)
	if size.H < 1 || size.W < 1 {
		panic(fmt.Sprintf("augment.ResizedCrop: bad output size %dx%d", size.H, size.W))
	}
	if mode != Bilinear && mode != Bicubic {
		panic(fmt.Sprintf("augment.ResizedCrop: interpolation %v not supported (want bilinear or bicubic)", mode))
	}
	out := NewImage(size.H, size.W, img.C)
	resample(out, img, top, left, height, width, mode, antialias)
	return out
}

// taps holds a 1-D resampling filter: output i reads source indices
// idx[i*n : (i+1)*n] (absolute, already clamped) with weights w[...].
type taps struct {
	n   int
	idx []int32
	w   []float32
}

// makeTaps computes the filter taking the in source pixels starting at
// offset to out pixels, following torch's CPU upsample kernels
// (aten/src/ATen/native/UpSample.h and cpu/UpSampleKernel.cpp, torch 1.13).
func makeTaps(in, out, offset int, mode Interpolation, antialias bool) taps {
	scale := float32(in) / float32(out)
	if antialias {
		return makeTapsAA(in, out, offset, scale, mode)
	}
	if mode == Bicubic {
		t := taps{n: 4, idx: make([]int32, 4*out), w: make([]float32, 4*out)}
		const a = -0.75
		for i := 0; i < out; i++ {
			src := scale*(float32(i)+0.5) - 0.5 // no clamp for cubic
			i0 := float32(math.Floor(float64(src)))
			f := src - i0
			w := t.w[4*i : 4*i+4]
			w[0] = cubic2(f+1, a)
			w[1] = cubic1(f, a)
			w[2] = cubic1(1-f, a)
			w[3] = cubic2(2-f, a)
			for k := 0; k < 4; k++ {
				j := min(max(int(i0)-1+k, 0), in-1)
				t.idx[4*i+k] = int32(offset + j)
			}
		}
		return t
	}
	t := taps{n: 2, idx: make([]int32, 2*out), w: make([]float32, 2*out)}
	for i := 0; i < out; i++ {
		src := max(scale*(float32(i)+0.5)-0.5, 0)
		i0 := int(src)
		i1 := i0
		if i0 < in-1 {
			i1++
		}
		l1 := src - float32(i0)
		t.idx[2*i], t.idx[2*i+1] = int32(offset+i0), int32(offset+i1)
		t.w[2*i], t.w[2*i+1] = 1-l1, l1
	}
	return t
}

// cubic1 and cubic2 are the cubic convolution kernel on [0,1] and [1,2].
func cubic1(x, a float32) float32 { return ((a+2)*x-(a+3))*x*x + 1 }
func cubic2(x, a float32) float32 { return ((a*x-5*a)*x+8*a)*x - 4*a }

// makeTapsAA is torch's _compute_weights_aa: a triangle (bilinear) or
// a = -0.5 cubic filter stretched by the scale when downsampling, with
// weights normalised to sum 1 and the window clipped to the source.
func makeTapsAA(in, out, offset int, scale float32, mode Interpolation) taps {
	filter, interpSize := aaLinear, float32(2)
	if mode == Bicubic {
		filter, interpSize = aaCubic, 4
	}
	support, invScale := interpSize*0.5, float32(1)
	if scale >= 1 {
		support *= scale
		invScale = 1 / scale
	}
	n := int(math.Ceil(float64(support)))*2 + 1
	t := taps{n: n, idx: make([]int32, n*out), w: make([]float32, n*out)}
	for i := 0; i < out; i++ {
		center := scale * (float32(i) + 0.5)
		xmin := max(int(center-support+0.5), 0)
		xsize := min(int(center+support+0.5), in) - xmin
		w := t.w[n*i : n*i+n]
		var total float32
		for j := 0; j < xsize; j++ {
			w[j] = filter((float32(j+xmin) - center + 0.5) * invScale)
			total += w[j]
		}
		for j := 0; j < n; j++ {
			if j < xsize && total != 0 {
				w[j] /= total
			}
			t.idx[n*i+j] = int32(offset + min(xmin+j, in-1))
		}
	}
	return t
}

func aaLinear(x float32) float32 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

func aaCubic(x float32) float32 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return cubic1(x, a)
	}
	if x < 2 {
		return cubic2(x, a)
	}
	return 0
}

// scratch recycles the temporary buffers of resampling and blurring.
var scratch = sync.Pool{New: func() any { return new([]float32) }}

func getScratch(n int) *[]float32 {
	p := scratch.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

// resample writes into dst the box (top, left, height, width) of src
// resized separably: a horizontal pass over the rows of the box into a
// scratch buffer (height × dst.W), then a vertical pass of whole rows.
func resample(dst, src *Image, top, left, height, width int, mode Interpolation, antialias bool) {
	c := src.C
	ht := makeTaps(width, dst.W, left, mode, antialias)
	vt := makeTaps(height, dst.H, 0, mode, antialias)
	rowLen := dst.W * c
	bufp := getScratch(height * rowLen)
	buf := *bufp
	for y := 0; y < height; y++ {
		srow := src.Pix[(top+y)*src.W*c : (top+y+1)*src.W*c]
		hpass(buf[y*rowLen:(y+1)*rowLen], srow, c, ht)
	}
	for oy := 0; oy < dst.H; oy++ {
		drow := dst.Pix[oy*rowLen : (oy+1)*rowLen]
		vpass(drow, buf, rowLen, vt.idx[oy*vt.n:(oy+1)*vt.n], vt.w[oy*vt.n:(oy+1)*vt.n])
	}
	if mode == Bicubic {
		for i, v := range dst.Pix {
			dst.Pix[i] = clamp01(v)
		}
	}
	scratch.Put(bufp)
}

// hpass resamples one HWC row: dst[x*c+ch] = Σ_k w[x,k]·src[idx[x,k]*c+ch].
func hpass(dst, src []float32, c int, t taps) {
	n := t.n
	switch {
	case c == 3 && n == 2:
		for x := 0; x < len(dst)/3; x++ {
			i0, i1 := int(t.idx[2*x])*3, int(t.idx[2*x+1])*3
			w0, w1 := t.w[2*x], t.w[2*x+1]
			a, b := src[i0:i0+3:i0+3], src[i1:i1+3:i1+3]
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0] = w0*a[0] + w1*b[0]
			d[1] = w0*a[1] + w1*b[1]
			d[2] = w0*a[2] + w1*b[2]
		}
	case c == 3:
		for x := 0; x < len(dst)/3; x++ {
			var s0, s1, s2 float32
			idx, w := t.idx[n*x:n*x+n], t.w[n*x:n*x+n]
			for k, j := range idx {
				p := src[int(j)*3 : int(j)*3+3 : int(j)*3+3]
				s0 += w[k] * p[0]
				s1 += w[k] * p[1]
				s2 += w[k] * p[2]
			}
			d := dst[3*x : 3*x+3 : 3*x+3]
			d[0], d[1], d[2] = s0, s1, s2
		}
	default:
		for x := 0; x < len(dst)/c; x++ {
			idx, w := t.idx[n*x:n*x+n], t.w[n*x:n*x+n]
			for ch := 0; ch < c; ch++ {
				var s float32
				for k, j := range idx {
					s += w[k] * src[int(j)*c+ch]
				}
				dst[x*c+ch] = s
			}
		}
	}
}

// vpass sets dst = Σ_k w[k]·row(idx[k]) over rows of length rowLen in buf.
func vpass(dst, buf []float32, rowLen int, idx []int32, w []float32) {
	if len(idx) == 2 {
		a := buf[int(idx[0])*rowLen : int(idx[0]+1)*rowLen]
		b := buf[int(idx[1])*rowLen : int(idx[1]+1)*rowLen]
		w0, w1 := w[0], w[1]
		a, b = a[:len(dst)], b[:len(dst)]
		for i := range dst {
			dst[i] = w0*a[i] + w1*b[i]
		}
		return
	}
	clear(dst)
	for k, j := range idx {
		if w[k] == 0 {
			continue
		}
		axpy(dst, buf[int(j)*rowLen:int(j+1)*rowLen], w[k])
	}
}

// axpy adds a·x to y elementwise (len(x) >= len(y)).
func axpy(y, x []float32, a float32) {
	x = x[:len(y)]
	i := 0
	for ; i+4 <= len(y); i += 4 {
		yy, xx := y[i:i+4:i+4], x[i:i+4:i+4]
		yy[0] += a * xx[0]
		yy[1] += a * xx[1]
		yy[2] += a * xx[2]
		yy[3] += a * xx[3]
	}
	for ; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

// RandomResizedCrop crops a random region of random area and aspect ratio
// and resizes it to Size: torchvision.transforms.RandomResizedCrop with
// its sampling algorithm (ten tries of area ∈ Scale × image area and
// log-uniform aspect ratio ∈ Ratio, then a central crop of the closest
// admissible aspect ratio).
type RandomResizedCrop struct {
	Size          Size
	Scale         Range // fraction of the image area; torchvision default (0.08, 1)
	Ratio         Range // width/height; default (3/4, 4/3)
	Interpolation Interpolation
	Antialias     bool // see Resize; default false as for tensors in torchvision 0.14
}

// NewRandomResizedCrop returns a RandomResizedCrop to size×size with
// torchvision's defaults: scale (0.08, 1), ratio (3/4, 4/3), bilinear.
func NewRandomResizedCrop(size int) *RandomResizedCrop {
	return &RandomResizedCrop{Size: Square(size), Scale: Range{0.08, 1}, Ratio: Range{3.0 / 4, 4.0 / 3}}
}

// Params draws a crop box for an h×w image, torchvision's
// RandomResizedCrop.get_params (Python's round is round-half-even).
func (t *RandomResizedCrop) Params(h, w int, rng *rand.Rand) (top, left, height, width int) {
	area := float64(h * w)
	logR := Range{math.Log(t.Ratio.Min), math.Log(t.Ratio.Max)}
	for range 10 {
		target := area * t.Scale.sample(rng)
		aspect := math.Exp(logR.sample(rng))
		cw := int(math.RoundToEven(math.Sqrt(target * aspect)))
		ch := int(math.RoundToEven(math.Sqrt(target / aspect)))
		if 0 < cw && cw <= w && 0 < ch && ch <= h {
			return rng.IntN(h - ch + 1), rng.IntN(w - cw + 1), ch, cw
		}
	}
	inRatio := float64(w) / float64(h)
	switch {
	case inRatio < t.Ratio.Min:
		width = w
		height = int(math.RoundToEven(float64(w) / t.Ratio.Min))
	case inRatio > t.Ratio.Max:
		height = h
		width = int(math.RoundToEven(float64(h) * t.Ratio.Max))
	default:
		width, height = w, h
	}
	return (h - height) / 2, (w - width) / 2, height, width
}

// Apply crops and resizes img; img is not modified.
func (t *RandomResizedCrop) Apply(img *Image, rng *rand.Rand) *Image {
	img.check("RandomResizedCrop")
	top, left, h, w := t.Params(img.H, img.W, rng)
	return ResizedCrop(img, top, left, h, w, t.Size, t.Interpolation, t.Antialias)
}
