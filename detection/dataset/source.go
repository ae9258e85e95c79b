package dataset

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// source is a read-only tree of files, a folder or an archive in memory,
// with slash-separated paths relative to its base.
type source interface {
	files() []string // every file, sorted
	read(p string) ([]byte, error)
	name(p string) string // p as the user knows it (for messages)
	root() string         // the folder the layout starts in ("" the base)
	list(dir string) []string
	single() string // the file when the source is one COCO .json file
}

// tree implements the listing helpers over a sorted file list.
type tree struct {
	all  []string
	one  string
	base string
}

func (t *tree) files() []string { return t.all }
func (t *tree) single() string  { return t.one }

// root descends through folders that are the only entry of their parent,
// so an archive of "BCCD/…" opens like the BCCD folder.
func (t *tree) root() string {
	r := ""
	for {
		var sub string
		only := true
		for _, f := range t.all {
			rel := f
			if r != "" {
				rel = strings.TrimPrefix(f, r+"/")
			}
			i := strings.IndexByte(rel, '/')
			if i < 0 {
				only = false
				break
			}
			if sub == "" {
				sub = rel[:i]
			} else if sub != rel[:i] {
				only = false
				break
			}
		}
		if !only || sub == "" {
			return r
		}
		r = path.Join(r, sub)
	}
}

// list returns the files directly inside dir.
func (t *tree) list(dir string) []string {
	prefix := dir + "/"
	if dir == "" || dir == "." {
		prefix = ""
	}
	var out []string
	i := sort.SearchStrings(t.all, prefix)
	for ; i < len(t.all) && strings.HasPrefix(t.all[i], prefix); i++ {
		if !strings.Contains(t.all[i][len(prefix):], "/") {
			out = append(out, t.all[i])
		}
	}
	return out
}

func (t *tree) name(p string) string { return t.base + ":" + p }

// dirSource is a folder on disk (or one .json file).
type dirSource struct {
	tree
	dir string
}

func (d *dirSource) read(p string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(p)))
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	return b, nil
}

func (d *dirSource) name(p string) string { return filepath.Join(d.dir, filepath.FromSlash(p)) }

// memSource is an archive read into memory.
type memSource struct {
	tree
	data map[string][]byte
}

func (m *memSource) read(p string) ([]byte, error) {
	b, ok := m.data[p]
	if !ok {
		return nil, fmt.Errorf("dataset: %s: no such file in the archive", m.name(p))
	}
	return b, nil
}

// wanted reports whether a file can matter to a detection dataset; masks
// and other files are not kept in memory.
func wanted(p string) bool {
	low := strings.ToLower(p)
	if strings.Contains(low, "_mask.") || strings.Contains(low, "segmentation") {
		return false
	}
	switch path.Ext(low) {
	case ".xml", ".txt", ".json", ".jpg", ".jpeg", ".png", ".gif":
		return true
	}
	return false
}

func isArchive(p string) bool {
	low := strings.ToLower(p)
	return strings.HasSuffix(low, ".tar") || strings.HasSuffix(low, ".tgz") || strings.HasSuffix(low, ".tar.gz")
}

// openSource opens a folder, an archive or a single .json file.
func openSource(p string) (source, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	switch {
	case st.IsDir():
		return openDirSource(p)
	case isArchive(p):
		return openArchive(p)
	case strings.EqualFold(filepath.Ext(p), ".json"):
		// Images sit beside the JSON or, for COCO's own layout, beside its
		// annotations/ folder.
		dir, one := filepath.Dir(p), filepath.Base(p)
		if filepath.Base(dir) == "annotations" {
			dir, one = filepath.Dir(dir), "annotations/"+one
		}
		s, err := openDirSource(dir)
		if err != nil {
			return nil, err
		}
		s.one = one
		return s, nil
	}
	return nil, fmt.Errorf("dataset: %s: not a folder, a .tar/.tgz archive or a COCO .json file", p)
}

func openDirSource(dir string) (*dirSource, error) {
	d := &dirSource{dir: dir}
	d.base = dir
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			if rel = filepath.ToSlash(rel); wanted(rel) {
				d.all = append(d.all, rel)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	sort.Strings(d.all)
	return d, nil
}

// maxMember bounds one archive member (a corrupt header must not make us
// allocate gigabytes).
const maxMember = 256 << 20

func openArchive(p string) (*memSource, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if low := strings.ToLower(p); strings.HasSuffix(low, ".tgz") || strings.HasSuffix(low, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, &FormatError{Path: p, Msg: "gzip: " + err.Error()}
		}
		defer gz.Close()
		r = gz
	}
	m := &memSource{data: map[string][]byte{}}
	m.base = p
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &FormatError{Path: p, Msg: "tar: " + err.Error()}
		}
		name := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if hdr.Typeflag != tar.TypeReg || !wanted(name) {
			continue
		}
		if hdr.Size > maxMember {
			return nil, &FormatError{Path: p + ":" + name, Msg: fmt.Sprintf("member of %d bytes, more than the %d allowed", hdr.Size, maxMember)}
		}
		b, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
		if err != nil || int64(len(b)) != hdr.Size {
			return nil, &FormatError{Path: p + ":" + name, Msg: fmt.Sprintf("truncated member (%d of %d bytes): %v", len(b), hdr.Size, err)}
		}
		if _, dup := m.data[name]; !dup {
			m.all = append(m.all, name)
		}
		m.data[name] = b
	}
	sort.Strings(m.all)
	return m, nil
}
