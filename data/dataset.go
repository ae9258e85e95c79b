package data

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/contrastive-ssl/contrastive/augment"
)

// Dataset is a finite, indexed set of images with optional class labels.
// All methods are safe for concurrent use.
type Dataset interface {
	// Name is the dataset reference with its split, e.g. "mnist:train".
	Name() string
	// Len is the number of images.
	Len() int
	// Shape is the geometry shared by every image, or h = w = 0 when the
	// sizes vary (c is still the channel count: 1 gray, 3 RGB).
	Shape() (h, w, c int)
	// Image returns image i (0 <= i < Len) as a new HWC float32 image with
	// values in [0, 1]. It fails only for datasets streamed from disk.
	Image(i int) (*augment.Image, error)
	// Label is the class of image i, or -1 for an unlabelled dataset.
	Label(i int) int
	// NumClasses is the number of classes, 0 for an unlabelled dataset.
	NumClasses() int
	// ClassNames are the names of the classes, indexed by label.
	ClassNames() []string
}

// RawImage is an image in a dataset's storage form: HWC uint8, index
// (y*W+x)*C+c. Pixels returned by a dataset's Raw may alias its storage and
// must not be modified.
type RawImage struct {
	H, W, C int
	Pix     []uint8
}

// RawDataset is implemented by the datasets that keep uint8 pixels, so that
// augmentation fast paths can read them without a float32 copy. Every
// dataset returned by Open and Synthetic implements it.
type RawDataset interface {
	Dataset
	// Raw returns image i in uint8 form, without copying when the pixels
	// are held in memory.
	Raw(i int) (RawImage, error)
}

// FormatError reports a dataset file that is missing, malformed or
// inconsistent with its companions. Path names the file (or folder).
type FormatError struct {
	Path string
	Msg  string
}

func (e *FormatError) Error() string { return "data: " + e.Path + ": " + e.Msg }

// Skipped returns the files that OpenOptions.SkipBad made Open skip, with
// the reason for each ("path: problem"), or nil.
func Skipped(ds Dataset) []string {
	if s, ok := ds.(*set); ok {
		return s.skipped
	}
	return nil
}

// u8ToF32 maps a byte to float32(b)/255, the value of torchvision's
// ToTensor.
var u8ToF32 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return
}()

// dim is the geometry of one image of a mixed-size dataset.
type dim struct{ h, w int32 }

// set is the one Dataset implementation behind Open and Synthetic: images
// as uint8 HWC either in memory (pix, back to back) or decoded on demand
// from files (stream).
type set struct {
	name    string
	n       int
	h, w, c int     // h = w = 0 when sizes vary
	pix     []uint8 // in-memory pixels; nil when streamed
	off     []int   // per-image offsets into pix (len n+1) when sizes vary
	dims    []dim   // per-image sizes when sizes vary
	labels  []int32 // nil when unlabelled
	classes []string
	skipped []string
	stream  *streamSource // non-nil: decode from disk on every access
	paths   []string      // per-image path below the folder or archive root (folders only)
}

func (s *set) Name() string           { return s.name }
func (s *set) Len() int               { return s.n }
func (s *set) Shape() (int, int, int) { return s.h, s.w, s.c }
func (s *set) NumClasses() int        { return len(s.classes) }
func (s *set) ClassNames() []string   { return s.classes }

// Path is image i's slash-separated path below the dataset's folder or
// archive root ("train/cat/1.png"), or "" for data without files (IDX,
// CIFAR binaries, synthetic sets).
func (s *set) Path(i int) string {
	if i < 0 || i >= len(s.paths) {
		return ""
	}
	return s.paths[i]
}

func (s *set) check(op string, i int) {
	if i < 0 || i >= s.n {
		panic(fmt.Sprintf("data.%s: index %d out of range [0, %d) in %s", op, i, s.n, s.name))
	}
}

func (s *set) Label(i int) int {
	s.check("Label", i)
	if s.labels == nil {
		return -1
	}
	return int(s.labels[i])
}

func (s *set) Raw(i int) (RawImage, error) {
	s.check("Raw", i)
	if s.stream != nil {
		return s.stream.decode(i, s.c)
	}
	if s.off == nil {
		size := s.h * s.w * s.c
		return RawImage{H: s.h, W: s.w, C: s.c, Pix: s.pix[i*size : (i+1)*size : (i+1)*size]}, nil
	}
	d := s.dims[i]
	return RawImage{H: int(d.h), W: int(d.w), C: s.c, Pix: s.pix[s.off[i]:s.off[i+1]:s.off[i+1]]}, nil
}

func (s *set) Image(i int) (*augment.Image, error) {
	r, err := s.Raw(i)
	if err != nil {
		return nil, err
	}
	img := augment.NewImage(r.H, r.W, r.C)
	for j, b := range r.Pix {
		img.Pix[j] = u8ToF32[b]
	}
	return img, nil
}

// Synthetic returns a labelled in-memory dataset of n random h×w×c images
// in the given number of classes, for tests and benchmarks: image i has
// class i mod classes, a class-specific base colour and a class-specific
// stripe orientation, plus per-image noise, so that both colour and
// geometry carry the label. The same arguments give the same pixels.
func Synthetic(n, h, w, c, classes int, seed uint64) RawDataset {
	if n < 0 || h < 1 || w < 1 || (c != 1 && c != 3) || classes < 1 {
		panic(fmt.Sprintf("data.Synthetic: bad geometry n=%d h=%d w=%d c=%d classes=%d", n, h, w, c, classes))
	}
	s := &set{name: "synthetic", n: n, h: h, w: w, c: c, pix: make([]uint8, n*h*w*c), labels: make([]int32, n)}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	base := make([][3]float64, classes)
	for k := range base {
		s.classes = append(s.classes, "class"+strconv.Itoa(k))
		for ch := range base[k] {
			base[k][ch] = 40 + 140*rng.Float64()
		}
	}
	size := h * w * c
	for i := range n {
		k := i % classes
		s.labels[i] = int32(k)
		px := s.pix[i*size : (i+1)*size]
		for y := range h {
			for x := range w {
				var stripe float64
				switch k % 3 {
				case 0:
					stripe = float64((y / 2) % 2)
				case 1:
					stripe = float64((x / 2) % 2)
				default:
					stripe = float64(((x + y) / 2) % 2)
				}
				for ch := range c {
					v := base[k][ch] + 50*stripe + 30*(rng.Float64()-0.5)
					px[(y*w+x)*c+ch] = uint8(min(max(v, 0), 255))
				}
			}
		}
	}
	return s
}

// FromImages returns an in-memory dataset holding imgs (quantised to uint8:
// round(v*255), clamped), with labels (nil for an unlabelled dataset, else
// one per image, each in [0, len(classNames))). Every image must have the
// same channel count; sizes may vary.
func FromImages(name string, imgs []*augment.Image, labels []int, classNames []string) (RawDataset, error) {
	s := &set{name: name, n: len(imgs), classes: classNames}
	if labels != nil {
		if len(labels) != len(imgs) {
			return nil, fmt.Errorf("data.FromImages %s: %d labels for %d images", name, len(labels), len(imgs))
		}
		s.labels = make([]int32, len(labels))
		for i, l := range labels {
			if l < 0 || l >= len(classNames) {
				return nil, fmt.Errorf("data.FromImages %s: label %d of image %d outside [0, %d)", name, l, i, len(classNames))
			}
			s.labels[i] = int32(l)
		}
	}
	fixed := true
	total := 0
	for i, img := range imgs {
		if img.C != imgs[0].C || len(img.Pix) != img.H*img.W*img.C {
			return nil, fmt.Errorf("data.FromImages %s: image %d is %dx%dx%d with %d values, image 0 has %d channels",
				name, i, img.H, img.W, img.C, len(img.Pix), imgs[0].C)
		}
		fixed = fixed && img.H == imgs[0].H && img.W == imgs[0].W
		total += len(img.Pix)
	}
	if len(imgs) > 0 {
		s.c = imgs[0].C
		if fixed {
			s.h, s.w = imgs[0].H, imgs[0].W
		}
	}
	s.pix = make([]uint8, 0, total)
	if !fixed {
		s.off = make([]int, 0, len(imgs)+1)
		s.dims = make([]dim, len(imgs))
	}
	for i, img := range imgs {
		if !fixed {
			s.off = append(s.off, len(s.pix))
			s.dims[i] = dim{int32(img.H), int32(img.W)}
		}
		for _, v := range img.Pix {
			s.pix = append(s.pix, uint8(min(max(v*255+0.5, 0), 255)))
		}
	}
	if !fixed {
		s.off = append(s.off, len(s.pix))
	}
	return s, nil
}
