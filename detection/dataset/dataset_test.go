package dataset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const vocSample = `<annotation>
	<filename>a.jpg</filename>
	<size><width>64</width><height>48</height><depth>3</depth></size>
	<object><name>dog</name><difficult>0</difficult>
		<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>10</xmax><ymax>20</ymax></bndbox></object>
	<object><name>cat</name><difficult>1</difficult>
		<bndbox><xmin>30.5</xmin><ymin>5</ymin><xmax>40</xmax><ymax>47</ymax></bndbox></object>
</annotation>`

const pfSample = `# Compatible with PASCAL Annotation Version 1.00
Image filename : "PennFudanPed/PNGImages/FudanPed00001.png"
Image size (X x Y x C) : 559 x 536 x 3
Database : "The Penn-Fudan-Pedestrian Database"
Objects with ground truth : 2 { "PASpersonWalking" "PASpersonWalking" }
# Top left pixel co-ordinates : (1, 1)
Bounding box for object 1 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (160, 182) - (302, 431)
Pixel mask for object 1 "PASpersonWalking" : "PennFudanPed/PedMasks/FudanPed00001_mask.png"
Bounding box for object 2 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (420, 171) - (535, 486)
`

const cocoSample = `{"images":[{"id":7,"file_name":"a.png","width":64,"height":48},{"id":3,"file_name":"b.png","width":64,"height":48}],
"annotations":[{"image_id":7,"category_id":5,"bbox":[1,2,10,20],"iscrowd":0},{"image_id":3,"category_id":2,"bbox":[0,0,4,4],"iscrowd":1}],
"categories":[{"id":5,"name":"dog"},{"id":2,"name":"cat"}]}`

func TestParseVOC(t *testing.T) {
	a, err := ParseVOC([]byte(vocSample))
	if err != nil {
		t.Fatal(err)
	}
	if a.Width != 64 || a.Height != 48 || len(a.Objects) != 2 {
		t.Fatalf("got %+v", a)
	}
	if got := a.Objects[0].Box(0); got != (Box{X0: 0, Y0: 1, X1: 10, Y1: 20}) {
		t.Errorf("dog box %+v, want (0,1)-(10,20): xmin-1, ymin-1, xmax, ymax", got)
	}
	if b := a.Objects[1].Box(1); !b.Difficult || b.X0 != 29.5 || b.W() != 10.5 {
		t.Errorf("cat box %+v, want difficult, x0 29.5, width 10.5", b)
	}
	for name, bad := range map[string]string{
		"no bndbox":  `<annotation><object><name>a</name></object></annotation>`,
		"no name":    `<annotation><object><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>`,
		"max < min":  `<annotation><object><name>a</name><bndbox><xmin>5</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>`,
		"not number": `<annotation><object><name>a</name><bndbox><xmin>x</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>`,
		"difficult":  `<annotation><object><name>a</name><difficult>2</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>`,
		"NaN":        `<annotation><object><name>a</name><bndbox><xmin>NaN</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>`,
		"truncated":  `<annotation><object>`,
	} {
		if _, err := ParseVOC([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParsePennFudan(t *testing.T) {
	a, err := ParsePennFudan([]byte(pfSample))
	if err != nil {
		t.Fatal(err)
	}
	if a.Width != 559 || a.Height != 536 || len(a.Boxes) != 2 || a.Boxes[1] != [4]float64{420, 171, 535, 486} {
		t.Fatalf("got %+v", a)
	}
	if _, err := ParsePennFudan([]byte(strings.Replace(pfSample, ": 2 {", ": 3 {", 1))); err == nil {
		t.Error("count mismatch accepted")
	}
	if _, err := ParsePennFudan([]byte(strings.Replace(pfSample, "(160, 182) - (302", "(360, 182) - (302", 1))); err == nil {
		t.Error("xmax < xmin accepted")
	}
	if _, err := ParsePennFudan([]byte(strings.Replace(pfSample, "object 2 \"PAS", "object 3 \"PAS", 1))); err == nil {
		t.Error("object numbering gap accepted")
	}
	if _, err := ParsePennFudan([]byte(strings.Replace(pfSample, "(420, 171)", "(420 171)", 1))); err == nil {
		t.Error("malformed box line accepted")
	}
}

func TestParseCOCO(t *testing.T) {
	c, err := ParseCOCO([]byte(cocoSample))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Dataset(func(string) ([]byte, error) { return nil, nil }, func(s string) string { return s })
	if strings.Join(d.Classes, ",") != "cat,dog" {
		t.Errorf("classes %v, want category-id order cat (2), dog (5)", d.Classes)
	}
	if b := d.Samples[0].Boxes[0]; b != (Box{X0: 1, Y0: 2, X1: 11, Y1: 22, Class: 1}) {
		t.Errorf("box %+v, want (1,2)-(11,22) dog", b)
	}
	if b := d.Samples[1].Boxes[0]; !b.Crowd || b.Class != 0 {
		t.Errorf("crowd box %+v", b)
	}
	for name, bad := range map[string]string{
		"unknown image": `{"images":[],"categories":[{"id":1,"name":"a"}],"annotations":[{"image_id":1,"category_id":1,"bbox":[0,0,1,1]}]}`,
		"unknown cat":   `{"images":[{"id":1,"file_name":"a.png"}],"categories":[],"annotations":[{"image_id":1,"category_id":1,"bbox":[0,0,1,1]}]}`,
		"short bbox":    `{"images":[{"id":1,"file_name":"a.png"}],"categories":[{"id":1,"name":"a"}],"annotations":[{"image_id":1,"category_id":1,"bbox":[0,0,1]}]}`,
		"negative w":    `{"images":[{"id":1,"file_name":"a.png"}],"categories":[{"id":1,"name":"a"}],"annotations":[{"image_id":1,"category_id":1,"bbox":[0,0,-1,1]}]}`,
		"dup image":     `{"images":[{"id":1,"file_name":"a.png"},{"id":1,"file_name":"b.png"}],"categories":[]}`,
		"escape":        `{"images":[{"id":1,"file_name":"../a.png"}],"categories":[]}`,
		"no images":     `{"categories":[]}`,
	} {
		if _, err := ParseCOCO([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func pngBytes(t testing.TB, w, h int) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeTgz(t *testing.T, p string, files map[string][]byte) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, b := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	tw.Close()
	gz.Close()
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOpenLayouts builds the three layouts as folders and archives and
// checks the boxes and splits that come back.
func TestOpenLayouts(t *testing.T) {
	img := pngBytes(t, 64, 48)
	voc := map[string][]byte{
		"VOC/Annotations/a.xml":            []byte(vocSample),
		"VOC/Annotations/b.xml":            []byte(`<annotation><object><name>bird</name><bndbox><xmin>3</xmin><ymin>3</ymin><xmax>4</xmax><ymax>4</ymax></bndbox></object></annotation>`),
		"VOC/JPEGImages/a.png":             img,
		"VOC/JPEGImages/b.png":             img,
		"VOC/ImageSets/Main/train.txt":     []byte("a\n"),
		"VOC/ImageSets/Main/test.txt":      []byte("b\n"),
		"VOC/ImageSets/Main/trainval.txt":  []byte("a\nb\n"),
		"VOC/SegmentationClass/ignore.png": img,
	}
	pf := map[string][]byte{
		"PennFudanPed/PNGImages/FudanPed00001.png":  img,
		"PennFudanPed/Annotation/FudanPed00001.txt": []byte(pfSample),
	}
	coco := map[string][]byte{
		"c/annotations/instances_val.json": []byte(cocoSample),
		"c/val/a.png":                      img,
		"c/val/b.png":                      img,
	}
	dir := t.TempDir()
	for name, files := range map[string]map[string][]byte{"voc": voc, "pf": pf, "coco": coco} {
		writeFiles(t, filepath.Join(dir, name), files)
		writeTgz(t, filepath.Join(dir, name+".tgz"), files)
	}
	for _, p := range []string{filepath.Join(dir, "voc"), filepath.Join(dir, "voc.tgz")} {
		d, err := Open(p + ":test")
		if err != nil {
			t.Fatal(err)
		}
		if d.Format != "voc" || strings.Join(d.Classes, ",") != "bird,cat,dog" || len(d.Samples) != 1 || d.Samples[0].Boxes[0] != (Box{X0: 2, Y0: 2, X1: 4, Y1: 4, Class: 0}) {
			t.Errorf("%s: got %+v", p, d)
		}
		all, err := Open(p)
		if err != nil || len(all.Samples) != 2 || all.NumBoxes() != 3 {
			t.Fatalf("%s (trainval): %v %+v", p, err, all)
		}
		if im, err := all.Samples[0].Decode(); err != nil || im.Bounds().Dx() != 64 {
			t.Errorf("%s: decode: %v", p, err)
		}
		if _, err := Open(p + ":nosuch"); err == nil {
			t.Errorf("%s: a missing split file is not an error", p)
		}
	}
	for _, p := range []string{filepath.Join(dir, "pf"), filepath.Join(dir, "pf.tgz")} {
		d, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if d.Format != "pennfudan" || len(d.Samples) != 1 || d.Samples[0].Boxes[0] != (Box{X0: 159, Y0: 181, X1: 302, Y1: 431}) {
			t.Errorf("%s: got %+v", p, d.Samples)
		}
		if _, err := Open(p + ":test"); err == nil {
			t.Errorf("%s: the common split of a 1-image database is not an error", p)
		}
	}
	for _, p := range []string{filepath.Join(dir, "coco"), filepath.Join(dir, "coco.tgz"), filepath.Join(dir, "coco", "c", "annotations", "instances_val.json")} {
		ref := p + ":val"
		d, err := Open(ref)
		if err != nil {
			t.Fatal(err)
		}
		if d.Format != "coco" || len(d.Samples) != 2 || d.NumBoxes() != 2 {
			t.Errorf("%s: got %+v", ref, d)
		}
		if _, err := d.Samples[1].Decode(); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
	}
	if _, err := Open(t.TempDir()); !errors.Is(err, ErrUnknownLayout) {
		t.Errorf("empty folder: %v, want ErrUnknownLayout", err)
	}
	bad := map[string][]byte{"V/Annotations/a.xml": []byte("<annotation><object>"), "V/JPEGImages/a.png": img}
	writeFiles(t, filepath.Join(dir, "bad"), bad)
	var fe *FormatError
	if _, err := Open(filepath.Join(dir, "bad")); !errors.As(err, &fe) || !strings.Contains(err.Error(), "a.xml") {
		t.Errorf("bad XML: %v, want a FormatError naming a.xml", err)
	}
}

func sharedDataset(t *testing.T, name string) string {
	p := filepath.Join("..", "..", "..", "shared", "datasets", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not found (../shared/datasets): %v", name, err)
	}
	return p
}

// TestRealDatasets checks the counts the datasets' README gives.
func TestRealDatasets(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 60 MB of archives")
	}
	pf := sharedDataset(t, "pennfudan.tgz")
	// One read of each archive, several splits.
	src, err := openSource(pf)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := openFrom(src, "train")
	if err != nil {
		t.Fatal(err)
	}
	te, err := openFrom(src, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Samples) != 120 || len(te.Samples) != 50 || tr.NumBoxes()+te.NumBoxes() != 423 {
		t.Errorf("Penn-Fudan split %d/%d images, %d boxes; want 120/50, 423", len(tr.Samples), len(te.Samples), tr.NumBoxes()+te.NumBoxes())
	}
	// randperm(170) with seed 1 puts sorted index 34 first among the test
	// images: FudanPed00035 (checked with torch 1.13 and sorted(os.listdir)).
	if te.Samples[0].Name != "FudanPed00035" {
		t.Errorf("first test image %s, want FudanPed00035", te.Samples[0].Name)
	}
	bccd, err := openSource(sharedDataset(t, "bccd.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for split, want := range map[string]int{"train": 205, "val": 87, "trainval": 292, "test": 72} {
		d, err := openFrom(bccd, split)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Samples) != want || strings.Join(d.Classes, ",") != "Platelets,RBC,WBC" {
			t.Errorf("BCCD %s: %d images, classes %v; want %d, Platelets,RBC,WBC", split, len(d.Samples), d.Classes, want)
		}
		if split == "trainval" || split == "test" {
			n += d.NumBoxes()
		}
	}
	if n != 4888 {
		t.Errorf("BCCD trainval+test: %d boxes, want 4888", n)
	}
}
