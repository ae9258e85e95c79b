package video

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The disk cache keeps one file per (dataset, split, decode size): every
// video's decoded frames, so that a second run over the same data skips
// ffmpeg. Its name hashes the dataset's path, size and modification
// time, the split and the decode options; a file that does not match
// exactly is ignored and rewritten.
//
//	"CVFRAMES1\n", uint32 video count, then per video:
//	uint32 name length, name, uint32 N, H, W, N·H·W·3 bytes

const diskMagic = "CVFRAMES1\n"

// DefaultCacheDir returns the user cache directory for decoded frames
// ($XDG_CACHE_HOME/contrastive/video or ~/.cache/contrastive/video), or
// "" when there is none.
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "contrastive", "video")
}

func (d *Dataset) diskCachePath(root, split string) string {
	if d.opt.DiskCache == "" {
		return ""
	}
	st, err := os.Stat(root)
	if err != nil {
		return ""
	}
	abs, _ := filepath.Abs(root)
	key := fmt.Sprintf("%s|%d|%d|%s|%dx%d|%d", abs, st.Size(), st.ModTime().UnixNano(), split, d.opt.Width, d.opt.Height, d.opt.MaxFrames)
	if st.IsDir() { // a folder's mtime misses edits below it: key on the listing
		key += "|" + strings.Join(d.Names, ",")
	}
	h := sha256.Sum256([]byte(key))
	return filepath.Join(d.opt.DiskCache, hex.EncodeToString(h[:12])+".frames")
}

// loadDisk fills NumFrames (and the memory cache, within its budget) from
// the disk cache; it reports whether the file was there and matched.
func (d *Dataset) loadDisk(path string) bool {
	if path == "" {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	magic := make([]byte, len(diskMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != diskMagic {
		return false
	}
	u32 := func() (int, bool) {
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, false
		}
		return int(binary.LittleEndian.Uint32(b[:])), true
	}
	if n, ok := u32(); !ok || n != len(d.src) {
		return false
	}
	frames := make([]*Frames, len(d.src))
	for i := range d.src {
		ln, ok := u32()
		if !ok || ln > 4096 {
			return false
		}
		name := make([]byte, ln)
		if _, err := io.ReadFull(r, name); err != nil || string(name) != d.Names[i] {
			return false
		}
		n, ok1 := u32()
		h, ok2 := u32()
		w, ok3 := u32()
		if !ok1 || !ok2 || !ok3 || h != d.opt.Height || w != d.opt.Width || n < 1 {
			return false
		}
		fr := &Frames{N: n, H: h, W: w, Pix: make([]uint8, n*h*w*3)}
		if _, err := io.ReadFull(r, fr.Pix); err != nil {
			return false
		}
		frames[i] = fr
	}
	for i, fr := range frames {
		d.NumFrames[i] = fr.N
		d.cache.put(i, fr)
	}
	return true
}

// saveDisk writes every video's frames to the disk cache atomically
// (temporary file, then rename); failures only cost the next run a decode.
func (d *Dataset) saveDisk(path string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".frames-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	u32 := func(v int) {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(v))
		w.Write(b[:])
	}
	w.WriteString(diskMagic)
	u32(len(d.src))
	for i := range d.src {
		f, err := d.Frames(i)
		if err != nil {
			tmp.Close()
			return err
		}
		u32(len(d.Names[i]))
		w.WriteString(d.Names[i])
		u32(f.N)
		u32(f.H)
		u32(f.W)
		w.Write(f.Pix)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
