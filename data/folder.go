package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// entry is one image file of a folder or archive.
type entry struct {
	rel   string // slash-separated path below the folder or archive root
	show  string // path shown in errors and warnings
	file  string // path on disk; "" for an archive member held in data
	off   int64  // with size > 0: the image is bytes [off, off+size) of file (a shard)
	size  int64
	data  []byte // encoded bytes of an archive member
	label int32
	hdr   header
	err   error // problem found reading the header or decoding
	read  bool  // hdr (or err) is set
}

// isSplitName reports whether a folder name is a split.
func isSplitName(s string) bool { return canonSplit(s) != "" }

// canonSplit returns the split a folder or reference name stands for
// ("train", "val" or "test"; "validation" is "val"), or "".
func canonSplit(s string) string {
	switch s {
	case "train", "val", "test":
		return s
	case "validation":
		return "val"
	}
	return ""
}

// splitPos returns the index of the last split folder in a path's parts
// (not counting the file name), or -1.
func splitPos(parts []string) int {
	for j := len(parts) - 2; j >= 0; j-- {
		if isSplitName(parts[j]) {
			return j
		}
	}
	return -1
}

// wantEntry reports whether an image at rel may belong to split: it lies
// below a folder of that split, or below no split folder at all.
func wantEntry(rel, split string) bool {
	parts := strings.Split(rel, "/")
	j := splitPos(parts)
	return j < 0 || canonSplit(parts[j]) == split
}

// layout is the outcome of resolveLayout: the selected image paths in
// sorted order and their labels (nil when unlabelled).
type layout struct {
	sel     []string
	labels  []int32
	classes []string
}

// resolveLayout decides from every image path (files) and folder path
// (dirs) below root which images form the requested split and what their
// labels are:
//
//	ROOT/{train,val,test}/<class>/<image>  labelled splits (ROOT may be nested;
//	                                       "validation" is "val")
//	<class>/<image>                    labelled, one split ("train")
//	<image>                            unlabelled, one split ("train")
//
// With strip (archives), a leading folder shared by every path is ignored
// first, so "cifar10/cat/1.png" reads as a class folder. Class names are
// the sorted folder names of both splits, so train and test agree on the
// numbering. An empty class folder of the split is an error, or a warning
// with SkipBad.
func resolveLayout(root string, files, dirs []string, split string, strip bool, opt *OpenOptions) (layout, error) {
	var out layout
	if len(files) == 0 {
		return out, &FormatError{root, "no PNG, JPEG or GIF images found"}
	}
	split2 := false
	for _, f := range files {
		if splitPos(strings.Split(f, "/")) >= 0 {
			split2 = true
			break
		}
	}
	if split2 {
		classSet := map[string]bool{}
		counts := map[string]int{}
		for _, f := range files {
			parts := strings.Split(f, "/")
			j := splitPos(parts)
			if j < 0 {
				continue // e.g. a preview image next to train/ and test/
			}
			switch len(parts) - 1 - j {
			case 1:
				return out, &FormatError{path.Join(root, f), "image directly in the " + parts[j] + " folder, not in a class folder: want " + parts[j] + "/<class>/<image>"}
			case 2:
			default:
				return out, &FormatError{path.Join(root, f), "image in a sub-folder of a class folder: want " + parts[j] + "/<class>/<image>"}
			}
			class := parts[j+1]
			classSet[class] = true
			if canonSplit(parts[j]) == split {
				out.sel = append(out.sel, f)
				counts[class]++
			}
		}
		var empty []string
		for _, d := range dirs {
			parts := strings.Split(d, "/")
			if len(parts) >= 2 && isSplitName(parts[len(parts)-2]) {
				class := parts[len(parts)-1]
				classSet[class] = true
				if canonSplit(parts[len(parts)-2]) == split && counts[class] == 0 {
					empty = append(empty, d)
				}
			}
		}
		if len(out.sel) == 0 {
			return out, &FormatError{root, fmt.Sprintf("no images in a %s/ folder: want %s/<class>/<image>", split, split)}
		}
		for _, d := range empty {
			if err := opt.bad(path.Join(root, d), "empty class folder"); err != nil {
				return out, err
			}
		}
		for c := range classSet {
			out.classes = append(out.classes, c)
		}
		slices.Sort(out.classes)
	} else {
		prefix := ""
		if strip {
			prefix = commonDir(files)
			files = trimAll(files, prefix)
			dirs = trimAll(dirs, prefix)
		}
		depth := len(strings.Split(files[0], "/"))
		for _, f := range files {
			if d := len(strings.Split(f, "/")); d != depth || d > 2 {
				return out, &FormatError{path.Join(root, prefix+f), "unrecognised folder layout: want DIR/{train,val,test}/<class>/<image>, DIR/<class>/<image> or DIR/<image>"}
			}
		}
		if split != "train" {
			return out, &FormatError{root, "no " + split + " split: want DIR/train/<class>/<image> and DIR/" + split + "/<class>/<image>"}
		}
		out.sel = slices.Clone(files)
		if depth == 2 {
			classSet := map[string]bool{}
			for _, f := range files {
				classSet[strings.Split(f, "/")[0]] = true
			}
			for _, d := range dirs {
				if !strings.Contains(d, "/") && d != "" && !classSet[d] {
					if err := opt.bad(path.Join(root, prefix+d), "empty class folder"); err != nil {
						return out, err
					}
				}
			}
			for c := range classSet {
				out.classes = append(out.classes, c)
			}
			slices.Sort(out.classes)
		}
		for i := range out.sel {
			out.sel[i] = prefix + out.sel[i]
		}
	}
	slices.Sort(out.sel)
	if out.classes != nil {
		out.labels = make([]int32, len(out.sel))
		for i, f := range out.sel {
			parts := strings.Split(f, "/")
			c, _ := slices.BinarySearch(out.classes, parts[len(parts)-2])
			out.labels[i] = int32(c)
		}
	}
	return out, nil
}

// commonDir returns the longest folder prefix ("a/b/") shared by every
// path, or "".
func commonDir(paths []string) string {
	prefix := path.Dir(paths[0])
	for _, p := range paths[1:] {
		for prefix != "." && !strings.HasPrefix(p, prefix+"/") {
			prefix = path.Dir(prefix)
		}
	}
	if prefix == "." {
		return ""
	}
	return prefix + "/"
}

// trimAll removes prefix from the paths that have it and drops the others.
func trimAll(paths []string, prefix string) []string {
	var out []string
	for _, p := range paths {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}

// openFolder opens the split of an image folder on disk; strip is
// resolveLayout's (an archive unpacked into a folder keeps the archive's
// rule that a leading folder shared by every path is ignored).
func openFolder(root, name, split string, strip bool, opt *OpenOptions) (*set, error) {
	var files, dirs []string
	if err := walk(root, "", 0, &files, &dirs); err != nil {
		return nil, err
	}
	lay, err := resolveLayout(root, files, dirs, split, strip, opt)
	if err != nil {
		return nil, err
	}
	ents := make([]*entry, len(lay.sel))
	for i, rel := range lay.sel {
		p := filepath.Join(root, filepath.FromSlash(rel))
		ents[i] = &entry{rel: rel, show: p, file: p}
		if lay.labels != nil {
			ents[i].label = lay.labels[i]
		}
	}
	return buildSet(name, root, ents, lay, opt, true)
}

// walk lists the image files and the folders below root/rel (slash
// paths relative to root), following symbolic links to folders (a
// dataset's train/ is often one) down to a depth of 8 and skipping hidden
// entries.
func walk(root, rel string, depth int, files, dirs *[]string) error {
	dir := filepath.Join(root, filepath.FromSlash(rel))
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("data: read folder %s: %w", dir, err)
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		r := path.Join(rel, name)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				continue // a dangling link is no dataset file
			}
			isDir = st.IsDir()
		}
		switch {
		case isDir && depth < 8:
			*dirs = append(*dirs, r)
			if err := walk(root, r, depth+1, files, dirs); err != nil {
				return err
			}
		case !isDir && isImageName(name):
			*files = append(*files, r)
		}
	}
	return nil
}

// readHeaders reads the header of every entry that has none yet, in
// parallel.
func readHeaders(ents []*entry, limit int64) {
	parallel.For(len(ents), 16, func(lo, hi int) {
		for _, e := range ents[lo:hi] {
			if e.read {
				continue
			}
			e.read = true
			if e.file == "" {
				e.hdr, e.err = headerOf(e.data, limit)
				continue
			}
			f, err := os.Open(e.file)
			if err != nil {
				e.err = err
				continue
			}
			e.hdr, e.err = readHeader(f, limit)
			f.Close()
		}
	})
}

// buildSet reads the headers of the selected images, checks them (bad
// files, mixed sizes), and either decodes every image into memory in
// parallel or, when canStream and the pixels exceed the memory budget,
// keeps the file list for decoding on demand.
func buildSet(name, root string, ents []*entry, lay layout, opt *OpenOptions, canStream bool) (*set, error) {
	readHeaders(ents, opt.MaxPixels)
	s := &set{name: name, classes: lay.classes}
	ents, err := dropBad(ents, s, opt)
	if err != nil {
		return nil, err
	}
	// Geometry: the most common size is the folder's; any other is a
	// mixed-size folder unless the caller allows it.
	type hw struct{ h, w int }
	count := map[hw]int{}
	var mode hw
	for _, e := range ents {
		k := hw{e.hdr.h, e.hdr.w}
		count[k]++
		if count[k] > count[mode] || (count[k] == count[mode] && (k.h < mode.h || k.h == mode.h && k.w < mode.w)) {
			mode = k
		}
	}
	if opt.SameSize && len(count) > 1 {
		var ref string
		for _, e := range ents {
			if (hw{e.hdr.h, e.hdr.w}) == mode {
				ref = e.show
				break
			}
		}
		for _, e := range ents {
			if (hw{e.hdr.h, e.hdr.w}) != mode {
				e.err = fmt.Errorf("image is %dx%d but %s and %d others are %dx%d: the folder mixes image sizes and SameSize asks for one size",
					e.hdr.w, e.hdr.h, ref, count[mode]-1, mode.w, mode.h)
			}
		}
		if ents, err = dropBad(ents, s, opt); err != nil {
			return nil, err
		}
		count = map[hw]int{mode: len(ents)}
	}
	s.n = len(ents)
	s.c = 1
	s.paths = make([]string, len(ents))
	for i, e := range ents {
		s.paths[i] = e.rel
	}
	var total int64
	for _, e := range ents {
		if !e.hdr.gray {
			s.c = 3
		}
		total += int64(e.hdr.h) * int64(e.hdr.w)
	}
	total *= int64(s.c)
	if len(count) == 1 {
		s.h, s.w = mode.h, mode.w
	}
	if lay.labels != nil {
		s.labels = make([]int32, len(ents))
		for i, e := range ents {
			s.labels[i] = e.label
		}
	}
	if s.h == 0 {
		s.dims = make([]dim, len(ents))
		for i, e := range ents {
			s.dims[i] = dim{int32(e.hdr.h), int32(e.hdr.w)}
		}
	}
	if canStream && total > opt.maxMemory() {
		st := &streamSource{files: make([]string, len(ents)), h: s.h, w: s.w, dims: s.dims}
		for i, e := range ents {
			st.files[i] = e.file
			if e.size > 0 {
				if st.parts == nil {
					st.parts = make([][2]int64, len(ents))
				}
				st.parts[i] = [2]int64{e.off, e.size}
			}
		}
		s.stream, s.dims = st, nil
		return s, nil
	}
	s.pix = make([]uint8, total)
	if s.h == 0 {
		s.off = make([]int, len(ents)+1)
		for i, d := range s.dims {
			s.off[i+1] = s.off[i] + int(d.h)*int(d.w)*s.c
		}
	}
	offset := func(i int) (int, int) {
		if s.off != nil {
			return s.off[i], s.off[i+1]
		}
		size := s.h * s.w * s.c
		return i * size, (i + 1) * size
	}
	parallel.For(len(ents), 16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e := ents[i]
			b := e.data
			if e.file != "" {
				if b, e.err = readPart(e.file, e.off, e.size); e.err != nil {
					continue
				}
			}
			a, z := offset(i)
			e.err = decodeInto(s.pix[a:z], b, e.hdr, s.c)
			e.data = nil
		}
	})
	// Compact away the images that failed to decode (SkipBad only).
	keep := 0
	var pos int
	for i, e := range ents {
		if e.err != nil {
			if err := opt.bad(e.show, e.err.Error()); err != nil {
				return nil, err
			}
			s.skipped = append(s.skipped, e.show+": "+e.err.Error())
			continue
		}
		a, z := offset(i)
		if keep != i {
			copy(s.pix[pos:], s.pix[a:z])
			if s.labels != nil {
				s.labels[keep] = s.labels[i]
			}
			if s.dims != nil {
				s.dims[keep] = s.dims[i]
			}
		}
		pos += z - a
		keep++
	}
	if keep != len(ents) {
		s.n = keep
		s.pix = s.pix[:pos:pos]
		if s.labels != nil {
			s.labels = s.labels[:keep]
		}
		if s.dims != nil {
			s.dims = s.dims[:keep]
			s.off = s.off[:keep+1]
			for i, d := range s.dims {
				s.off[i+1] = s.off[i] + int(d.h)*int(d.w)*s.c
			}
		}
	}
	if s.n == 0 {
		return nil, &FormatError{root, "no readable images"}
	}
	opt.summary(s, root)
	return s, nil
}

// dropBad removes the entries with a problem, failing on the first one
// unless SkipBad.
func dropBad(ents []*entry, s *set, opt *OpenOptions) ([]*entry, error) {
	out := ents[:0]
	for _, e := range ents {
		if e.err == nil {
			out = append(out, e)
			continue
		}
		if err := opt.bad(e.show, e.err.Error()); err != nil {
			return nil, err
		}
		s.skipped = append(s.skipped, e.show+": "+e.err.Error())
	}
	if len(out) == 0 {
		// The folder of the first image, not cleaned: an archive member
		// named "../x.png" is still shown inside the archive (found by
		// FuzzArchive).
		return nil, &FormatError{ents[0].show[:max(strings.LastIndexAny(ents[0].show, "/"+string(filepath.Separator)), 0)], "no readable images"}
	}
	return out, nil
}

// streamSource decodes the images of a set too large for memory from
// disk on every access.
type streamSource struct {
	files []string
	parts [][2]int64 // per image (offset, size) inside its file; nil: whole files
	h, w  int        // fixed size, or 0
	dims  []dim      // per-image sizes when h is 0
}

func (st *streamSource) decode(i, c int) (RawImage, error) {
	want := header{h: st.h, w: st.w}
	if st.h == 0 {
		want = header{h: int(st.dims[i].h), w: int(st.dims[i].w)}
	}
	var part [2]int64
	if st.parts != nil {
		part = st.parts[i]
	}
	b, err := readPart(st.files[i], part[0], part[1])
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return RawImage{}, &FormatError{st.files[i], "image file disappeared since the dataset was opened"}
		}
		return RawImage{}, fmt.Errorf("data: read %s: %w", st.files[i], err)
	}
	r := RawImage{H: want.h, W: want.w, C: c, Pix: make([]uint8, want.h*want.w*c)}
	if err := decodeInto(r.Pix, b, want, c); err != nil {
		return RawImage{}, &FormatError{st.files[i], err.Error()}
	}
	return r, nil
}

// readPart reads bytes [off, off+size) of a file, or the whole file when
// size is 0.
func readPart(file string, off, size int64) ([]byte, error) {
	if size <= 0 {
		return os.ReadFile(file)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, size)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("read %d bytes at %d of %s: %w", size, off, file, err)
	}
	return b, nil
}
