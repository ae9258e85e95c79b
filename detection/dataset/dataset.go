package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // decoders for Sample.Decode
	_ "image/jpeg" // decoders for Sample.Decode
	_ "image/png"  // decoders for Sample.Decode
	"math"
	"path"
	"sort"
	"strings"
)

// Box is one annotated object: a box in continuous pixel coordinates (see
// the package comment), its class index into Dataset.Classes and the flags
// the metrics honour. Difficult (VOC) boxes are neither required nor
// penalised; Crowd (COCO iscrowd) boxes may absorb any number of
// detections.
type Box struct {
	X0, Y0, X1, Y1 float64
	Class          int
	Difficult      bool
	Crowd          bool
}

// W returns the box width.
func (b Box) W() float64 { return b.X1 - b.X0 }

// H returns the box height.
func (b Box) H() float64 { return b.Y1 - b.Y0 }

// Area returns the box area.
func (b Box) Area() float64 { return max(b.W(), 0) * max(b.H(), 0) }

// valid reports whether the coordinates are finite and ordered.
func (b Box) valid() bool {
	for _, v := range []float64{b.X0, b.Y0, b.X1, b.Y1} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return b.X1 >= b.X0 && b.Y1 >= b.Y0
}

// Sample is one image and its boxes.
type Sample struct {
	Name  string // image identifier (VOC id, file name without folder)
	Path  string // image path inside the dataset (for messages)
	W, H  int    // image size from the annotation (0 if it does not say)
	Boxes []Box
	load  func() ([]byte, error)
}

// Bytes returns the encoded image file.
func (s *Sample) Bytes() ([]byte, error) {
	if s.load == nil {
		return nil, fmt.Errorf("dataset: %s: no image source", s.Name)
	}
	return s.load()
}

// Decode reads and decodes the image (PNG, JPEG or GIF).
func (s *Sample) Decode() (image.Image, error) {
	b, err := s.Bytes()
	if err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, &FormatError{Path: s.Path, Msg: "decode image: " + err.Error()}
	}
	return img, nil
}

// Dataset is a list of annotated images and the class names their boxes
// index.
type Dataset struct {
	Format  string   // "voc", "pennfudan" or "coco"
	Classes []string // class names; Box.Class indexes this
	Samples []Sample
}

// NumBoxes returns the number of boxes, difficult ones included.
func (d *Dataset) NumBoxes() int {
	n := 0
	for _, s := range d.Samples {
		n += len(s.Boxes)
	}
	return n
}

// FormatError reports malformed annotation or image data in a file.
type FormatError struct {
	Path string
	Msg  string
}

func (e *FormatError) Error() string { return "dataset: " + e.Path + ": " + e.Msg }

// ErrUnknownLayout is returned (wrapped) when a folder or archive matches
// none of the supported layouts.
var ErrUnknownLayout = errors.New("no VOC (Annotations/ + JPEGImages/), Penn-Fudan (Annotation/ + PNGImages/) or COCO (*.json) layout found")

// Open reads the dataset ref names: PATH[:split], PATH a folder, a .tar,
// .tgz or .tar.gz archive, or a COCO .json file. The split selects
//
//   - VOC: ImageSets/Main/<split>.txt (default trainval, or every
//     annotation when that file is missing);
//   - Penn-Fudan: train (120 images) or test (50), the common split of the
//     torchvision detection tutorial (torch.manual_seed(1);
//     torch.randperm(170)); default all 170;
//   - COCO: annotations/instances_<split>.json or <split>.json (default:
//     the only JSON file there is).
func Open(ref string) (*Dataset, error) {
	p, split := ref, ""
	if i := strings.LastIndexByte(ref, ':'); i > 0 && !strings.ContainsAny(ref[i+1:], `/\`) {
		p, split = ref[:i], ref[i+1:]
	}
	src, err := openSource(p)
	if err != nil {
		return nil, err
	}
	d, err := openFrom(src, split)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", ref, err)
	}
	return d, nil
}

// openFrom detects the layout under src's root and reads the split.
func openFrom(src source, split string) (*Dataset, error) {
	root := src.root()
	has := func(dir string) bool { return len(src.list(path.Join(root, dir))) > 0 }
	switch {
	case src.single() != "":
		return openCOCOFile(src, src.single(), split)
	case has("Annotations") && has("JPEGImages"):
		return openVOC(src, root, split)
	case has("Annotation") && has("PNGImages"):
		return openPennFudan(src, root, split)
	}
	if j := cocoFiles(src, root); len(j) > 0 {
		return openCOCO(src, root, j, split)
	}
	return nil, ErrUnknownLayout
}

// classIndex maps sorted unique names to indices.
func classIndex(names map[string]bool) ([]string, map[string]int) {
	classes := make([]string, 0, len(names))
	for n := range names {
		classes = append(classes, n)
	}
	sort.Strings(classes)
	idx := make(map[string]int, len(classes))
	for i, c := range classes {
		idx[c] = i
	}
	return classes, idx
}
