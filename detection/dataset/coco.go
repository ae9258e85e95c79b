package dataset

import (
	"encoding/json"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"
)

// COCO is a parsed COCO instances file: only the fields detection needs.
type COCO struct {
	Images []struct {
		ID       int64  `json:"id"`
		FileName string `json:"file_name"`
		Width    int    `json:"width"`
		Height   int    `json:"height"`
	} `json:"images"`
	Annotations []struct {
		ImageID    int64     `json:"image_id"`
		CategoryID int64     `json:"category_id"`
		BBox       []float64 `json:"bbox"`
		IsCrowd    int       `json:"iscrowd"`
		Ignore     int       `json:"ignore"`
	} `json:"annotations"`
	Categories []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"categories"`
}

// ParseCOCO parses and checks a COCO instances JSON: unique image and
// category ids, every annotation pointing to a known image and category,
// bbox [x, y, w, h] of finite numbers with w, h ≥ 0, file names that stay
// inside the dataset folder.
func ParseCOCO(b []byte) (*COCO, error) {
	var c COCO
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("COCO JSON: %w", err)
	}
	if c.Images == nil || c.Categories == nil {
		return nil, fmt.Errorf("COCO JSON: want \"images\" and \"categories\" arrays")
	}
	imgs := map[int64]bool{}
	for i, im := range c.Images {
		if imgs[im.ID] {
			return nil, fmt.Errorf("COCO JSON: image %d: duplicate id %d", i, im.ID)
		}
		imgs[im.ID] = true
		fn := im.FileName
		if fn == "" || path.IsAbs(fn) || strings.Contains(fn, `\`) || strings.HasPrefix(path.Clean(fn), "..") {
			return nil, fmt.Errorf("COCO JSON: image %d: file_name %q is not a relative path inside the dataset", im.ID, fn)
		}
		if im.Width < 0 || im.Height < 0 || im.Width > maxSide || im.Height > maxSide {
			return nil, fmt.Errorf("COCO JSON: image %d: size %d×%d", im.ID, im.Width, im.Height)
		}
	}
	cats := map[int64]bool{}
	for i, ct := range c.Categories {
		if cats[ct.ID] {
			return nil, fmt.Errorf("COCO JSON: category %d: duplicate id %d", i, ct.ID)
		}
		cats[ct.ID] = true
	}
	for i, a := range c.Annotations {
		if !imgs[a.ImageID] {
			return nil, fmt.Errorf("COCO JSON: annotation %d: unknown image_id %d", i, a.ImageID)
		}
		if !cats[a.CategoryID] {
			return nil, fmt.Errorf("COCO JSON: annotation %d: unknown category_id %d", i, a.CategoryID)
		}
		if len(a.BBox) != 4 {
			return nil, fmt.Errorf("COCO JSON: annotation %d: bbox has %d numbers, want 4 (x, y, w, h)", i, len(a.BBox))
		}
		for _, v := range a.BBox {
			if math.IsNaN(v) || math.Abs(v) > maxSide {
				return nil, fmt.Errorf("COCO JSON: annotation %d: bbox %v out of range", i, a.BBox)
			}
		}
		if a.BBox[2] < 0 || a.BBox[3] < 0 {
			return nil, fmt.Errorf("COCO JSON: annotation %d: bbox %v has a negative size", i, a.BBox)
		}
	}
	return &c, nil
}

// Dataset converts c into a Dataset with classes in category-id order;
// load returns the bytes of an image given its file_name.
func (c *COCO) Dataset(load func(fileName string) ([]byte, error), name func(fileName string) string) *Dataset {
	cats := make([]int, len(c.Categories))
	for i := range cats {
		cats[i] = i
	}
	sort.Slice(cats, func(i, j int) bool { return c.Categories[cats[i]].ID < c.Categories[cats[j]].ID })
	d := &Dataset{Format: "coco"}
	classOf := map[int64]int{}
	for k, i := range cats {
		d.Classes = append(d.Classes, c.Categories[i].Name)
		classOf[c.Categories[i].ID] = k
	}
	at := map[int64]int{}
	for _, im := range c.Images {
		at[im.ID] = len(d.Samples)
		fn := im.FileName
		d.Samples = append(d.Samples, Sample{
			Name: path.Base(fn), Path: name(fn), W: im.Width, H: im.Height,
			load: func() ([]byte, error) { return load(fn) },
		})
	}
	for _, a := range c.Annotations {
		s := &d.Samples[at[a.ImageID]]
		x, y, w, h := a.BBox[0], a.BBox[1], a.BBox[2], a.BBox[3]
		s.Boxes = append(s.Boxes, Box{X0: x, Y0: y, X1: x + w, Y1: y + h, Class: classOf[a.CategoryID], Crowd: a.IsCrowd != 0, Difficult: a.Ignore != 0 && a.IsCrowd == 0})
	}
	return d
}

// cocoFiles lists the .json files under root and root/annotations.
func cocoFiles(src source, root string) []string {
	var out []string
	for _, dir := range []string{root, path.Join(root, "annotations")} {
		for _, f := range src.list(dir) {
			if strings.HasSuffix(strings.ToLower(f), ".json") {
				out = append(out, f)
			}
		}
	}
	return out
}

// openCOCO picks the split's JSON among files and reads it.
func openCOCO(src source, root string, files []string, split string) (*Dataset, error) {
	pick := ""
	if split == "" {
		if len(files) != 1 {
			return nil, fmt.Errorf("COCO: %d JSON files (%v): name a split (PATH:split for instances_split.json)", len(files), files)
		}
		pick = files[0]
	} else {
		for _, f := range files {
			b := path.Base(f)
			if b == "instances_"+split+".json" || b == split+".json" {
				pick = f
				break
			}
		}
		if pick == "" {
			return nil, fmt.Errorf("COCO: no instances_%s.json or %s.json among %v", split, split, files)
		}
	}
	return openCOCOFile(src, pick, split)
}

// openCOCOFile reads one instances file; an image's file_name is looked up
// under root/<split>/, root/images/<split>/, root/images/, root/ and the
// JSON's own folder, in that order.
func openCOCOFile(src source, file, split string) (*Dataset, error) {
	b, err := src.read(file)
	if err != nil {
		return nil, err
	}
	c, err := ParseCOCO(b)
	if err != nil {
		return nil, &FormatError{Path: src.name(file), Msg: err.Error()}
	}
	root := src.root()
	dir := path.Dir(file)
	if path.Base(dir) == "annotations" {
		root = path.Dir(dir)
	}
	if root == "." {
		root = ""
	}
	var dirs []string
	if split != "" {
		dirs = append(dirs, path.Join(root, split), path.Join(root, "images", split))
	}
	dirs = append(dirs, path.Join(root, "images"), root, dir)
	have := map[string]bool{}
	for _, f := range src.files() {
		have[f] = true
	}
	resolve := func(fn string) string {
		for _, d := range dirs {
			if p := path.Join(d, fn); have[p] {
				return p
			}
		}
		return ""
	}
	for _, im := range c.Images {
		if resolve(im.FileName) == "" {
			return nil, &FormatError{Path: src.name(file), Msg: fmt.Sprintf("image %d: %s not found under %v", im.ID, im.FileName, dirs)}
		}
	}
	return c.Dataset(func(fn string) ([]byte, error) { return src.read(resolve(fn)) }, func(fn string) string { return src.name(resolve(fn)) }), nil
}
