package dataset

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// PennFudanAnnotation is a parsed Penn-Fudan annotation file, boxes as
// written (1-based, inclusive).
type PennFudanAnnotation struct {
	Filename      string
	Width, Height int
	Boxes         [][4]float64 // xmin, ymin, xmax, ymax
}

var (
	pfBox   = regexp.MustCompile(`^Bounding box for object (\d+) "[^"]*" \(Xmin, Ymin\) - \(Xmax, Ymax\) : \((-?\d+), (-?\d+)\) - \((-?\d+), (-?\d+)\)$`)
	pfSize  = regexp.MustCompile(`^Image size \(X x Y x C\) : (\d+) x (\d+) x (\d+)$`)
	pfFile  = regexp.MustCompile(`^Image filename : "([^"]*)"$`)
	pfCount = regexp.MustCompile(`^Objects with ground truth : (\d+)`)
)

// ParsePennFudan parses a "PASCAL Annotation Version 1.00" text file of the
// Penn-Fudan database. Boxes must be numbered 1, 2, … in order, have
// xmin ≤ xmax and ymin ≤ ymax, and match the "Objects with ground truth"
// count when the file gives one.
func ParsePennFudan(b []byte) (*PennFudanAnnotation, error) {
	a := &PennFudanAnnotation{}
	count := -1
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if m := pfFile.FindStringSubmatch(line); m != nil {
			a.Filename = m[1]
		} else if m := pfSize.FindStringSubmatch(line); m != nil {
			w, err1 := strconv.Atoi(m[1])
			h, err2 := strconv.Atoi(m[2])
			if err1 != nil || err2 != nil || w > maxSide || h > maxSide {
				return nil, fmt.Errorf("Penn-Fudan line %d: bad image size %q", i+1, line)
			}
			a.Width, a.Height = w, h
		} else if m := pfCount.FindStringSubmatch(line); m != nil {
			n, err := strconv.Atoi(m[1])
			if err != nil || n > maxSide {
				return nil, fmt.Errorf("Penn-Fudan line %d: bad object count %q", i+1, line)
			}
			count = n
		} else if m := pfBox.FindStringSubmatch(line); m != nil {
			k, err := strconv.Atoi(m[1])
			if err != nil || k != len(a.Boxes)+1 {
				return nil, fmt.Errorf("Penn-Fudan line %d: object %s out of order (want %d)", i+1, m[1], len(a.Boxes)+1)
			}
			var bx [4]float64
			for j := range bx {
				v, err := strconv.Atoi(m[2+j])
				if err != nil || v < -maxSide || v > maxSide {
					return nil, fmt.Errorf("Penn-Fudan line %d: bad coordinate %q", i+1, m[2+j])
				}
				bx[j] = float64(v)
			}
			if bx[2] < bx[0] || bx[3] < bx[1] {
				return nil, fmt.Errorf("Penn-Fudan line %d: box (%g, %g)-(%g, %g) has max < min", i+1, bx[0], bx[1], bx[2], bx[3])
			}
			a.Boxes = append(a.Boxes, bx)
		} else if strings.HasPrefix(line, "Bounding box") {
			return nil, fmt.Errorf("Penn-Fudan line %d: malformed box line %q", i+1, line)
		}
	}
	if count >= 0 && count != len(a.Boxes) {
		return nil, fmt.Errorf("Penn-Fudan: %d objects announced, %d boxes given", count, len(a.Boxes))
	}
	return a, nil
}

// pennFudanPerm is torch.randperm(170) after torch.manual_seed(1), the
// shuffle of the torchvision detection tutorial over the sorted image
// names: its last 50 entries are the test images.
var pennFudanPerm = [170]int{155, 62, 1, 87, 73, 138, 121, 118, 61, 19, 58, 86, 36, 52, 39, 80, 148, 23, 108, 16, 20, 161, 124, 78, 8, 101, 132, 66, 33, 69, 128, 160, 53, 100, 83, 158, 85, 150, 166, 2, 55, 91, 51, 57, 89, 115, 156, 71, 63, 103, 134, 140, 102, 11, 59, 49, 163, 127, 45, 68, 136, 149, 137, 116, 159, 35, 10, 143, 17, 82, 99, 56, 42, 139, 126, 40, 113, 50, 123, 120, 25, 41, 38, 152, 81, 105, 141, 154, 164, 95, 130, 107, 70, 46, 15, 14, 117, 18, 7, 111, 76, 133, 32, 74, 93, 60, 72, 4, 167, 27, 153, 24, 165, 146, 157, 44, 106, 0, 30, 125, 34, 84, 145, 135, 131, 3, 122, 77, 168, 169, 64, 142, 144, 88, 26, 47, 22, 65, 90, 48, 21, 43, 29, 9, 119, 92, 109, 104, 31, 110, 112, 96, 28, 13, 75, 151, 67, 79, 5, 98, 37, 6, 54, 129, 162, 94, 114, 147, 12, 97}

// pennFudanTest is the size of the common test split.
const pennFudanTest = 50

// openPennFudan reads PNGImages/ and Annotation/; the split is train, test
// or "" (all, sorted by name). The common split applies to the 170-image
// database; another number of images only allows "" .
func openPennFudan(src source, root, split string) (*Dataset, error) {
	imgs := src.list(path.Join(root, "PNGImages"))
	annDir := path.Join(root, "Annotation")
	d := &Dataset{Format: "pennfudan", Classes: []string{"person"}}
	for _, f := range imgs {
		base := path.Base(f)
		id := strings.TrimSuffix(base, path.Ext(base))
		af := path.Join(annDir, id+".txt")
		b, err := src.read(af)
		if err != nil {
			return nil, err
		}
		a, err := ParsePennFudan(b)
		if err != nil {
			return nil, &FormatError{Path: src.name(af), Msg: err.Error()}
		}
		s := Sample{Name: id, Path: src.name(f), W: a.Width, H: a.Height}
		for _, bx := range a.Boxes {
			s.Boxes = append(s.Boxes, Box{X0: bx[0] - 1, Y0: bx[1] - 1, X1: bx[2], Y1: bx[3]})
		}
		img := f
		s.load = func() ([]byte, error) { return src.read(img) }
		d.Samples = append(d.Samples, s)
	}
	if len(d.Samples) == 0 {
		return nil, &FormatError{Path: src.name(path.Join(root, "PNGImages")), Msg: "no images"}
	}
	switch split {
	case "", "all":
		return d, nil
	case "train", "test":
	default:
		return nil, fmt.Errorf("Penn-Fudan split %q: want train, test or all", split)
	}
	if len(d.Samples) != len(pennFudanPerm) {
		return nil, fmt.Errorf("Penn-Fudan split %q: the common split needs the 170-image database, found %d images", split, len(d.Samples))
	}
	perm := pennFudanPerm[:len(pennFudanPerm)-pennFudanTest]
	if split == "test" {
		perm = pennFudanPerm[len(pennFudanPerm)-pennFudanTest:]
	}
	all := d.Samples
	d.Samples = make([]Sample, 0, len(perm))
	for _, i := range perm {
		d.Samples = append(d.Samples, all[i])
	}
	return d, nil
}
