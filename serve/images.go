package serve

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/contrastive-ssl/contrastive/data"
)

// ErrNoImage is returned for an index path that the image source does not
// hold, or that would lead outside it.
var ErrNoImage = errors.New("no such image")

// maxImageFile bounds one image file read from the image root.
const maxImageFile = 64 << 20

// Images reads the encoded bytes of an index entry's image by the path
// recorded in index.csv.
type Images interface {
	ReadImage(p string) ([]byte, error)
	String() string
}

// OpenImages opens the images an index was made from: a folder (paths are
// opened beneath it, never outside), or a .tar, .tgz or .tar.gz archive, of
// which the members named by paths are read into memory once (at most
// maxMemory bytes in all). A path in index.csv may name a member either
// exactly or below the archive's top folder ("cifar10/test/cat/1.png" is
// found as "test/cat/1.png"), as the data package strips that folder.
//
// An index of a dataset whose images have no file names (the embedded
// MNIST, CIFAR binaries) records "NAME#i", NAME being the dataset reference
// with its split: when ref names that dataset, image i is read from it and
// sent as PNG.
func OpenImages(ref string, paths []string, maxMemory int64) (Images, error) {
	if name := datasetName(ref); len(paths) > 0 && strings.HasPrefix(paths[0], name+"#") {
		ds, err := data.Open(ref, data.OpenOptions{})
		if err != nil {
			return nil, fmt.Errorf("images: %w", err)
		}
		return &datasetImages{ds: ds, name: name}, nil
	}
	ref = DataPath(ref)
	st, err := os.Stat(ref)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	if st.IsDir() {
		root, err := os.OpenRoot(ref)
		if err != nil {
			return nil, fmt.Errorf("images: %w", err)
		}
		return &dirImages{root: root, name: ref}, nil
	}
	lower := strings.ToLower(ref)
	if !strings.HasSuffix(lower, ".tar") && !strings.HasSuffix(lower, ".tgz") && !strings.HasSuffix(lower, ".tar.gz") {
		return nil, fmt.Errorf("images: %s is neither a folder nor a .tar, .tgz or .tar.gz archive", ref)
	}
	return readArchive(ref, paths, maxMemory)
}

// datasetName is a dataset reference with its split made explicit, as
// data.Dataset.Name spells it.
func datasetName(ref string) string {
	if DataPath(ref) != ref {
		return ref
	}
	return ref + ":train"
}

// datasetImages serves image i of a dataset for the path "NAME#i".
type datasetImages struct {
	ds   data.Dataset
	name string
}

func (d *datasetImages) String() string { return d.name }

func (d *datasetImages) ReadImage(p string) ([]byte, error) {
	rest, ok := strings.CutPrefix(p, d.name+"#")
	i, err := strconv.Atoi(rest)
	if !ok || err != nil || i < 0 || i >= d.ds.Len() || strconv.Itoa(i) != rest {
		return nil, fmt.Errorf("%s: %q is not an image of it: %w", d.name, p, ErrNoImage)
	}
	img, err := d.ds.Image(i)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, toNRGBA(img)); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return buf.Bytes(), nil
}

// dirImages opens index paths beneath a folder through os.Root, which
// refuses "..", absolute paths and symbolic links that leave the folder.
type dirImages struct {
	root *os.Root
	name string
}

func (d *dirImages) String() string { return d.name }

func (d *dirImages) ReadImage(p string) ([]byte, error) {
	local := filepath.FromSlash(p)
	if !filepath.IsLocal(local) {
		return nil, fmt.Errorf("%s: %q is outside the image folder: %w", d.name, p, ErrNoImage)
	}
	f, err := d.root.Open(local)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %s: %w", d.name, p, ErrNoImage)
		}
		// os.Root's escape error, a permission problem, ...
		return nil, fmt.Errorf("%s: %s: %v: %w", d.name, p, err, ErrNoImage)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %s is not a regular file: %w", d.name, p, ErrNoImage)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxImageFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", d.name, p, err)
	}
	if len(b) > maxImageFile {
		return nil, fmt.Errorf("%s: %s is larger than %d bytes", d.name, p, maxImageFile)
	}
	return b, nil
}

// memImages holds the archive members an index names.
type memImages struct {
	name    string
	members map[string][]byte
}

func (m *memImages) String() string { return m.name }

func (m *memImages) ReadImage(p string) ([]byte, error) {
	if b, ok := m.members[p]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s: %s: %w", m.name, p, ErrNoImage)
}

// readArchive reads the members of a tar archive (gzip-compressed when the
// name says so) that paths name.
func readArchive(name string, paths []string, maxMemory int64) (*memImages, error) {
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[p] = true
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if !strings.HasSuffix(strings.ToLower(name), ".tar") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("images: %s: %w", name, err)
		}
		defer zr.Close()
		r = zr
	}
	m := &memImages{name: name, members: map[string][]byte{}}
	var total int64
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("images: %s: %w", name, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		member := strings.TrimPrefix(path.Clean(hdr.Name), "./")
		if !filepath.IsLocal(filepath.FromSlash(member)) {
			continue // "../x", "/x": outside the archive's root
		}
		key := ""
		switch {
		case want[member]:
			key = member
		case strings.Contains(member, "/") && want[member[strings.Index(member, "/")+1:]]:
			key = member[strings.Index(member, "/")+1:]
		default:
			continue
		}
		if _, dup := m.members[key]; dup {
			continue
		}
		if total += hdr.Size; total > maxMemory {
			return nil, fmt.Errorf("images: the indexed members of %s exceed %d bytes: unpack it and pass the folder", name, maxMemory)
		}
		b := make([]byte, hdr.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, fmt.Errorf("images: %s: member %s: %w", name, hdr.Name, err)
		}
		m.members[key] = b
	}
	return m, nil
}

// ImageSide is the shorter side of the image at p, or 0 when it cannot be
// read.
func ImageSide(im Images, p string) int {
	b, err := im.ReadImage(p)
	if err != nil {
		return 0
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return 0
	}
	return min(cfg.Width, cfg.Height)
}

// ImageType is the Content-Type of an encoded image by its first bytes
// (application/octet-stream when it is not one).
func ImageType(b []byte) string {
	return http.DetectContentType(b)
}
