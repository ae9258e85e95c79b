package dataset

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// VOCObject is one <object> of a VOC annotation, coordinates as written
// (1-based, inclusive).
type VOCObject struct {
	Name                   string
	Difficult              bool
	XMin, YMin, XMax, YMax float64
}

// VOCAnnotation is a parsed VOC annotation file.
type VOCAnnotation struct {
	Filename      string
	Width, Height int
	Objects       []VOCObject
}

type vocXML struct {
	Filename string `xml:"filename"`
	Size     struct {
		Width  string `xml:"width"`
		Height string `xml:"height"`
	} `xml:"size"`
	Objects []struct {
		Name      string `xml:"name"`
		Difficult string `xml:"difficult"`
		Box       *struct {
			XMin string `xml:"xmin"`
			YMin string `xml:"ymin"`
			XMax string `xml:"xmax"`
			YMax string `xml:"ymax"`
		} `xml:"bndbox"`
	} `xml:"object"`
}

// maxSide bounds image sizes and coordinates read from annotations.
const maxSide = 1 << 20

// ParseVOC parses a PASCAL VOC annotation (one <annotation> element). It
// requires every object to have a name and a bndbox whose coordinates are
// numbers with xmin ≤ xmax and ymin ≤ ymax; <difficult> is 0 or 1
// (missing means 0). Sizes are optional (0 when absent).
func ParseVOC(b []byte) (*VOCAnnotation, error) {
	var x vocXML
	dec := xml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("VOC XML: %w", err)
	}
	a := &VOCAnnotation{Filename: strings.TrimSpace(x.Filename)}
	var err error
	if a.Width, err = vocSize("width", x.Size.Width); err != nil {
		return nil, err
	}
	if a.Height, err = vocSize("height", x.Size.Height); err != nil {
		return nil, err
	}
	for i, o := range x.Objects {
		obj := VOCObject{Name: strings.TrimSpace(o.Name)}
		if obj.Name == "" {
			return nil, fmt.Errorf("VOC XML: object %d has no name", i+1)
		}
		switch d := strings.TrimSpace(o.Difficult); d {
		case "", "0":
		case "1":
			obj.Difficult = true
		default:
			return nil, fmt.Errorf("VOC XML: object %d (%s): difficult %q, want 0 or 1", i+1, obj.Name, d)
		}
		if o.Box == nil {
			return nil, fmt.Errorf("VOC XML: object %d (%s) has no bndbox", i+1, obj.Name)
		}
		for _, c := range []struct {
			name string
			s    string
			dst  *float64
		}{{"xmin", o.Box.XMin, &obj.XMin}, {"ymin", o.Box.YMin, &obj.YMin}, {"xmax", o.Box.XMax, &obj.XMax}, {"ymax", o.Box.YMax, &obj.YMax}} {
			v, err := strconv.ParseFloat(strings.TrimSpace(c.s), 64)
			if err != nil || v != v || v < -maxSide || v > maxSide {
				return nil, fmt.Errorf("VOC XML: object %d (%s): %s %q is not a coordinate", i+1, obj.Name, c.name, c.s)
			}
			*c.dst = v
		}
		if obj.XMax < obj.XMin || obj.YMax < obj.YMin {
			return nil, fmt.Errorf("VOC XML: object %d (%s): box (%g, %g)-(%g, %g) has max < min", i+1, obj.Name, obj.XMin, obj.YMin, obj.XMax, obj.YMax)
		}
		a.Objects = append(a.Objects, obj)
	}
	return a, nil
}

func vocSize(what, s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > maxSide {
		return 0, fmt.Errorf("VOC XML: size %s %q is not a pixel count", what, s)
	}
	return v, nil
}

// Box converts a VOC object to continuous coordinates (X0 = xmin − 1,
// X1 = xmax).
func (o VOCObject) Box(class int) Box {
	return Box{X0: o.XMin - 1, Y0: o.YMin - 1, X1: o.XMax, Y1: o.YMax, Class: class, Difficult: o.Difficult}
}

// openVOC reads a VOC folder: every annotation (for the class list), then
// the split's ids.
func openVOC(src source, root, split string) (*Dataset, error) {
	annDir, imgDir := path.Join(root, "Annotations"), path.Join(root, "JPEGImages")
	anns := map[string]*VOCAnnotation{}
	names := map[string]bool{}
	var ids []string
	for _, f := range src.list(annDir) {
		if !strings.HasSuffix(f, ".xml") {
			continue
		}
		b, err := src.read(f)
		if err != nil {
			return nil, err
		}
		a, err := ParseVOC(b)
		if err != nil {
			return nil, &FormatError{Path: src.name(f), Msg: err.Error()}
		}
		id := strings.TrimSuffix(path.Base(f), ".xml")
		anns[id] = a
		ids = append(ids, id)
		for _, o := range a.Objects {
			names[o.Name] = true
		}
	}
	if len(ids) == 0 {
		return nil, &FormatError{Path: src.name(annDir), Msg: "no .xml annotations"}
	}
	splitFile := ""
	switch {
	case split != "":
		splitFile = path.Join(root, "ImageSets", "Main", split+".txt")
	default:
		if f := path.Join(root, "ImageSets", "Main", "trainval.txt"); contains(src.files(), f) {
			splitFile = f
		}
	}
	if splitFile != "" {
		b, err := src.read(splitFile)
		if err != nil {
			return nil, fmt.Errorf("split %q: %w", split, err)
		}
		ids = strings.Fields(string(b))
		if len(ids) == 0 {
			return nil, &FormatError{Path: src.name(splitFile), Msg: "empty split"}
		}
	}
	classes, idx := classIndex(names)
	images := map[string]string{}
	for _, f := range src.list(imgDir) {
		base := path.Base(f)
		images[strings.TrimSuffix(base, path.Ext(base))] = f
	}
	d := &Dataset{Format: "voc", Classes: classes}
	for _, id := range ids {
		a, ok := anns[id]
		if !ok {
			return nil, &FormatError{Path: src.name(splitFile), Msg: fmt.Sprintf("id %q has no Annotations/%s.xml", id, id)}
		}
		img, ok := images[id]
		if !ok {
			return nil, &FormatError{Path: src.name(path.Join(annDir, id+".xml")), Msg: fmt.Sprintf("no image JPEGImages/%s.jpg", id)}
		}
		s := Sample{Name: id, Path: src.name(img), W: a.Width, H: a.Height}
		for _, o := range a.Objects {
			s.Boxes = append(s.Boxes, o.Box(idx[o.Name]))
		}
		s.load = func() ([]byte, error) { return src.read(img) }
		d.Samples = append(d.Samples, s)
	}
	return d, nil
}

func contains(sorted []string, s string) bool {
	for _, x := range sorted {
		if x == s {
			return true
		}
	}
	return false
}
