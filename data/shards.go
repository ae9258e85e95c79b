package data

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

// ShardIndexFile is the index `contrastive prepare` writes next to its
// shards; a folder holding one opens as a dataset.
const ShardIndexFile = "index.json"

// shardMagic names the index format.
const shardMagic = "contrastive-shards"

// shardIndex is ShardIndexFile: where every sample's image lies in the
// shards. Samples are [shard, offset, size, height, width, label]: the
// image member's data starts at byte offset of shard file Shards[shard]
// and is size bytes long; label is -1 when unlabelled.
type shardIndex struct {
	Format    string     `json:"format"`  // shardMagic
	Version   int        `json:"version"` // 1
	Source    string     `json:"source"`
	Encoding  string     `json:"encoding"` // jpeg or raw (PPM/PGM)
	ShortSide int        `json:"short_side"`
	Channels  int        `json:"channels"`
	Classes   []string   `json:"classes"`
	Shards    []string   `json:"shards"`
	Samples   [][6]int64 `json:"samples"`
}

// ShardOptions configure WriteShards.
type ShardOptions struct {
	// ShortSide resizes every image whose shorter side is longer to that
	// side (torchvision's Resize(ShortSide), antialiased bilinear);
	// smaller images are kept as they are. 0 keeps every size.
	ShortSide int
	// Format is "jpeg" (quality 95) or "raw" (binary PPM/PGM, no loss).
	Format string
	// PerShard is the number of images a shard holds; 0 means 1000.
	PerShard int
	// Progress, when not nil, is called after each group of images with
	// the count done.
	Progress func(done, total int)
}

// WriteShards writes ds into dir as tar shards in the WebDataset layout
// (shard-000000.tar, …; each sample a member "<key>.jpg" or "<key>.ppm"
// plus "<key>.cls" holding its label, keys the zero-padded dataset index)
// and the index ShardIndexFile, which Open reads: Open(dir) is then ds,
// resized. Every file is written under a temporary name and renamed; the
// index last.
func WriteShards(ds Dataset, dir string, opt ShardOptions) error {
	if opt.Format == "" {
		opt.Format = "jpeg"
	}
	if opt.Format != "jpeg" && opt.Format != "raw" {
		return fmt.Errorf("data: shards: format %q, want jpeg or raw", opt.Format)
	}
	if opt.PerShard == 0 {
		opt.PerShard = 1000
	}
	if opt.ShortSide < 0 || opt.PerShard < 0 {
		return fmt.Errorf("data: shards: negative short side %d or images per shard %d", opt.ShortSide, opt.PerShard)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data: shards: %w", err)
	}
	_, _, c := ds.Shape()
	idx := shardIndex{Format: shardMagic, Version: 1, Source: ds.Name(), Encoding: opt.Format,
		ShortSide: opt.ShortSide, Channels: c, Classes: ds.ClassNames()}
	if idx.Classes == nil {
		idx.Classes = []string{}
	}
	ext := ".jpg"
	if opt.Format == "raw" {
		ext = ".ppm"
		if c == 1 {
			ext = ".pgm"
		}
	}
	n := ds.Len()
	const group = 64
	enc := make([][]byte, group)
	dims := make([][2]int, group)
	errs := make([]error, group)
	var (
		f    *os.File
		tw   *tar.Writer
		cw   *countWriter
		name string
	)
	finish := func() error {
		if tw == nil {
			return nil
		}
		if err := tw.Close(); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		tw = nil
		return os.Rename(f.Name(), filepath.Join(dir, name))
	}
	fail := func(err error) error {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
		return fmt.Errorf("data: shards %s: %w", dir, err)
	}
	now := time.Unix(0, 0)
	for lo := 0; lo < n; lo += group {
		hi := min(lo+group, n)
		parallel.For(hi-lo, 1, func(a, b int) {
			for k := a; k < b; k++ {
				enc[k], dims[k], errs[k] = encodeSample(ds, lo+k, opt)
			}
		})
		for k := range hi - lo {
			i := lo + k
			if errs[k] != nil {
				return fail(errs[k])
			}
			if i%opt.PerShard == 0 {
				if err := finish(); err != nil {
					return fail(err)
				}
				name = fmt.Sprintf("shard-%06d.tar", len(idx.Shards))
				var err error
				if f, err = os.CreateTemp(dir, "."+name+".tmp-*"); err != nil {
					return fail(err)
				}
				cw = &countWriter{w: f}
				tw = tar.NewWriter(cw)
				idx.Shards = append(idx.Shards, name)
			}
			key := fmt.Sprintf("%08d", i)
			if err := tw.WriteHeader(&tar.Header{Name: key + ext, Mode: 0o644, Size: int64(len(enc[k])), ModTime: now, Format: tar.FormatUSTAR}); err != nil {
				return fail(err)
			}
			off := cw.n // WriteHeader has written the header blocks, not yet the data
			if _, err := tw.Write(enc[k]); err != nil {
				return fail(err)
			}
			cls := []byte(fmt.Sprint(ds.Label(i)))
			if err := tw.WriteHeader(&tar.Header{Name: key + ".cls", Mode: 0o644, Size: int64(len(cls)), ModTime: now, Format: tar.FormatUSTAR}); err != nil {
				return fail(err)
			}
			if _, err := tw.Write(cls); err != nil {
				return fail(err)
			}
			idx.Samples = append(idx.Samples, [6]int64{int64(len(idx.Shards) - 1), off, int64(len(enc[k])), int64(dims[k][0]), int64(dims[k][1]), int64(ds.Label(i))})
		}
		if opt.Progress != nil {
			opt.Progress(hi, n)
		}
	}
	if err := finish(); err != nil {
		return fail(err)
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return fail(err)
	}
	return writeAtomic(filepath.Join(dir, ShardIndexFile), b)
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// writeAtomic writes b to path through a temporary file and a rename.
func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("data: write %s: %w", path, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("data: write %s: %w", path, err)
	}
	return nil
}

// encodeSample resizes image i of ds and encodes it; dims are its height
// and width.
func encodeSample(ds Dataset, i int, opt ShardOptions) ([]byte, [2]int, error) {
	var r RawImage
	if rd, ok := ds.(RawDataset); ok {
		var err error
		if r, err = rd.Raw(i); err != nil {
			return nil, [2]int{}, err
		}
	} else {
		img, err := ds.Image(i)
		if err != nil {
			return nil, [2]int{}, err
		}
		r = toRaw(img)
	}
	if s := opt.ShortSide; s > 0 && min(r.H, r.W) > s {
		img := augment.Image8{H: r.H, W: r.W, C: r.C, Pix: r.Pix}.ToFloat(0, 0, r.H, r.W)
		r = toRaw(augment.ResizeShorter(img, s))
	}
	var buf bytes.Buffer
	if opt.Format == "raw" {
		magic := "P6"
		if r.C == 1 {
			magic = "P5"
		}
		fmt.Fprintf(&buf, "%s\n%d %d\n255\n", magic, r.W, r.H)
		buf.Write(r.Pix)
		return buf.Bytes(), [2]int{r.H, r.W}, nil
	}
	var m image.Image
	if r.C == 1 {
		m = &image.Gray{Pix: r.Pix, Stride: r.W, Rect: image.Rect(0, 0, r.W, r.H)}
	} else {
		rgba := image.NewRGBA(image.Rect(0, 0, r.W, r.H))
		for p := range r.W * r.H {
			rgba.Pix[4*p], rgba.Pix[4*p+1], rgba.Pix[4*p+2], rgba.Pix[4*p+3] = r.Pix[3*p], r.Pix[3*p+1], r.Pix[3*p+2], 255
		}
		m = rgba
	}
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
		return nil, [2]int{}, fmt.Errorf("encode image %d: %w", i, err)
	}
	return buf.Bytes(), [2]int{r.H, r.W}, nil
}

// toRaw quantises a float image to uint8 (round(v*255), clamped).
func toRaw(img *augment.Image) RawImage {
	r := RawImage{H: img.H, W: img.W, C: img.C, Pix: make([]uint8, len(img.Pix))}
	for i, v := range img.Pix {
		r.Pix[i] = uint8(min(max(v*255+0.5, 0), 255))
	}
	return r
}

// parseShardIndex reads and checks a shard index: the magic and version,
// shard names that are plain file names, and samples that point inside
// the shards (sizes from shardSize, nil to skip that check) with labels
// inside the classes and geometry within the pixel limit.
func parseShardIndex(name string, b []byte, shardSize func(string) (int64, error), limit int64) (*shardIndex, error) {
	var idx shardIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, &FormatError{name, "not a shard index: " + err.Error()}
	}
	if idx.Format != shardMagic || idx.Version != 1 {
		return nil, &FormatError{name, fmt.Sprintf("format %q version %d, want %s version 1", idx.Format, idx.Version, shardMagic)}
	}
	if idx.Channels != 1 && idx.Channels != 3 {
		return nil, &FormatError{name, fmt.Sprintf("%d channels, want 1 or 3", idx.Channels)}
	}
	if len(idx.Samples) == 0 {
		return nil, &FormatError{name, "no samples"}
	}
	if limit <= 0 {
		limit = DefaultMaxPixels
	}
	sizes := make([]int64, len(idx.Shards))
	for k, s := range idx.Shards {
		if s == "" || s != filepath.Base(s) || s == "." || s == ".." {
			return nil, &FormatError{name, fmt.Sprintf("shard %d: %q is not a file name in the index's folder", k, s)}
		}
		sizes[k] = -1
		if shardSize != nil {
			var err error
			if sizes[k], err = shardSize(s); err != nil {
				return nil, fmt.Errorf("data: %s: shard %s: %w", name, s, err)
			}
		}
	}
	for i, s := range idx.Samples {
		shard, off, size, h, w, label := s[0], s[1], s[2], s[3], s[4], s[5]
		switch {
		case shard < 0 || shard >= int64(len(idx.Shards)):
			return nil, &FormatError{name, fmt.Sprintf("sample %d: shard %d of %d", i, shard, len(idx.Shards))}
		case off < 0 || size < 1 || off > 1<<50 || size > 1<<40 || (sizes[shard] >= 0 && off+size > sizes[shard]):
			return nil, &FormatError{name, fmt.Sprintf("sample %d: bytes %d+%d outside shard %s", i, off, size, idx.Shards[shard])}
		case h < 1 || w < 1 || h > 1<<31 || w > 1<<31 || h*w > limit:
			return nil, &FormatError{name, fmt.Sprintf("sample %d: %dx%d image (limit %d pixels)", i, w, h, limit)}
		case label < -1 || label >= int64(len(idx.Classes)) || (label == -1) != (len(idx.Classes) == 0):
			return nil, &FormatError{name, fmt.Sprintf("sample %d: label %d with %d classes", i, label, len(idx.Classes))}
		}
	}
	return &idx, nil
}

// openShards opens a folder written by WriteShards.
func openShards(dir, name string, opt *OpenOptions) (*set, error) {
	p := filepath.Join(dir, ShardIndexFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("data: read %s: %w", p, err)
	}
	idx, err := parseShardIndex(p, b, func(s string) (int64, error) {
		st, err := os.Stat(filepath.Join(dir, s))
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}, opt.MaxPixels)
	if err != nil {
		return nil, err
	}
	ents := make([]*entry, len(idx.Samples))
	for i, s := range idx.Samples {
		f := filepath.Join(dir, idx.Shards[s[0]])
		ents[i] = &entry{rel: fmt.Sprintf("%08d", i), show: fmt.Sprintf("%s (sample %d at byte %d)", f, i, s[1]), file: f,
			off: s[1], size: s[2], read: true, hdr: header{h: int(s[3]), w: int(s[4]), gray: idx.Channels == 1}, label: int32(max(s[5], 0))}
	}
	lay := layout{classes: idx.Classes}
	if len(idx.Classes) > 0 {
		lay.labels = []int32{} // labelled
	} else {
		lay.classes = nil
	}
	return buildSet(name, dir, ents, lay, opt, true)
}
