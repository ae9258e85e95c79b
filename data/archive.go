package data

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// isBinaryName reports whether an archive member is one of the files of
// an IDX or CIFAR binary dataset, kept in memory while scanning.
func isBinaryName(base string) bool {
	switch base {
	case "test_batch.bin", "train.bin", "test.bin", "batches.meta.txt", "fine_label_names.txt":
		return true
	}
	if dataBatchRE.MatchString(base) {
		return true
	}
	for _, prefix := range []string{"train", "t10k"} {
		for _, kind := range []string{"images-idx3", "labels-idx1"} {
			for _, n := range idxNames(prefix, kind) {
				if base == n {
					return true
				}
			}
		}
	}
	return false
}

// openArchive opens the split of a .tar, .tgz or .tar.gz archive of an
// image folder, IDX folder or CIFAR binary folder.
//
// One sequential pass through the tar stream records every path and keeps
// the encoded images of the requested split in memory; buildSet then
// decodes them in parallel into the pixel buffer. If the decoded pixels
// would exceed the memory budget, the pass switches to unpacking the split
// into the cache directory, which later opens reuse, and the images are
// streamed from there.
func openArchive(p, name, split string, opt *OpenOptions) (*set, error) {
	cache := unpackDir(p, split, opt)
	if cache != "" {
		if st, err := os.Stat(cache); err == nil && st.IsDir() {
			return openUnpacked(cache, p, name, split, opt)
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("data: open archive: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &FormatError{p, "corrupt gzip stream: " + err.Error()}
		}
		r = zr
	}
	tr := tar.NewReader(r)
	var (
		files, dirs []string
		held        = map[string]*entry{}
		seen        = map[string]bool{}
		bins        = memSource{dir: p, files: map[string]memFile{}}
		est         int64
		un          *unpacker
	)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			un.abandon()
			return nil, &FormatError{p, "corrupt or truncated archive: " + err.Error()}
		}
		rel := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		switch {
		case hdr.Typeflag == tar.TypeDir:
			if rel != "." {
				dirs = append(dirs, rel)
			}
			if err := un.mkdir(rel); err != nil {
				return nil, err
			}
		case hdr.Typeflag != tar.TypeReg:
			// Links and special files are not dataset files.
		case isImageName(rel):
			if !seen[rel] { // a repeated member replaces the earlier one, as tar -x does
				seen[rel] = true
				files = append(files, rel)
			}
			if err := un.mkdir(path.Dir(rel)); err != nil {
				return nil, err
			}
			if !wantEntry(rel, split) {
				continue
			}
			if un != nil {
				if err := un.write(rel, tr); err != nil {
					return nil, err
				}
				continue
			}
			b, err := readMember(tr, hdr, p)
			if err != nil {
				return nil, err
			}
			e := &entry{rel: rel, show: p + "/" + rel, data: b, read: true}
			e.hdr, e.err = headerOf(b, opt.MaxPixels)
			held[rel] = e
			c := int64(3)
			if e.hdr.gray {
				c = 1
			}
			est += int64(e.hdr.h) * int64(e.hdr.w) * c
			if est > opt.maxMemory() && cache != "" {
				if un, err = newUnpacker(p, cache); err != nil {
					return nil, err
				}
				for _, d := range dirs {
					if err := un.mkdir(d); err != nil {
						return nil, err
					}
				}
				for rel, e := range held {
					if err := un.write(rel, bytes.NewReader(e.data)); err != nil {
						return nil, err
					}
				}
				held = nil
			}
		case isBinaryName(path.Base(rel)):
			b, err := readMember(tr, hdr, p)
			if err != nil {
				return nil, err
			}
			bins.files[path.Base(rel)] = memFile{path: p + "/" + rel, data: b}
		}
	}
	if un != nil {
		if err := un.finish(); err != nil {
			return nil, err
		}
		return openUnpacked(cache, p, name, split, opt)
	}
	if len(files) == 0 {
		if s, ok, err := openBinary(bins, name, split); ok {
			return s, err
		}
	}
	lay, err := resolveLayout(p, files, dirs, split, true, opt)
	if err != nil {
		return nil, err
	}
	ents := make([]*entry, len(lay.sel))
	for i, rel := range lay.sel {
		ents[i] = held[rel]
		if lay.labels != nil {
			ents[i].label = lay.labels[i]
		}
	}
	held = nil
	return buildSet(name, p, ents, lay, opt, false)
}

// openUnpacked opens the folder an archive was unpacked into as the
// archive itself would open: the same layout rules, and errors about the
// layout or a member naming the archive (the cache folder means nothing
// to the user). Found by FuzzArchive: the unpacked folder was opened by
// the plain-folder rules, so "data/cat/1.png" opened from memory but not
// once the archive outgrew the memory budget.
func openUnpacked(cache, archive, name, split string, opt *OpenOptions) (*set, error) {
	s, err := openFolder(cache, name, split, true, opt)
	var fe *FormatError
	if errors.As(err, &fe) {
		if rest, ok := strings.CutPrefix(fe.Path, cache); ok {
			return nil, &FormatError{archive + filepath.ToSlash(rest), fe.Msg}
		}
	}
	return s, err
}

// readMember reads the current archive member whole.
func readMember(tr *tar.Reader, hdr *tar.Header, archive string) ([]byte, error) {
	if hdr.Size < 0 || hdr.Size > 1<<31 {
		return nil, &FormatError{archive, fmt.Sprintf("member %s claims %d bytes", hdr.Name, hdr.Size)}
	}
	// Grow with the data actually read: a header's size alone (up to 2 GiB)
	// must not allocate before the bytes are there.
	buf := bytes.NewBuffer(make([]byte, 0, min(hdr.Size, 1<<20)))
	n, err := io.Copy(buf, tr)
	if err == nil && n != hdr.Size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, &FormatError{archive, "corrupt or truncated archive reading " + hdr.Name + ": " + err.Error()}
	}
	return buf.Bytes(), nil
}

// unpackDir is the cache folder for one split of an archive, keyed by its
// absolute path, size and modification time, or "" when there is no
// usable cache directory.
func unpackDir(p, split string, opt *OpenOptions) string {
	base := opt.CacheDir
	if base == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(d, "contrastive", "unpacked")
	}
	abs, err := filepath.Abs(p)
	st, serr := os.Stat(p)
	if err != nil || serr != nil {
		return ""
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d", abs, st.Size(), st.ModTime().UnixNano()))
	return filepath.Join(base, fmt.Sprintf("%s-%x-%s", filepath.Base(p), sum[:8], split))
}

// unpacker writes archive members into a temporary folder that becomes
// the cache folder, by rename, only once complete. A nil *unpacker does
// nothing.
type unpacker struct {
	archive, tmp, final string
}

func newUnpacker(archive, final string) (*unpacker, error) {
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, fmt.Errorf("data: unpack %s: %w", archive, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(final), ".unpack-*")
	if err != nil {
		return nil, fmt.Errorf("data: unpack %s: %w", archive, err)
	}
	return &unpacker{archive: archive, tmp: tmp, final: final}, nil
}

// local turns a member path into a path below the temporary folder,
// refusing paths that would escape it.
func (u *unpacker) local(rel string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		u.abandon()
		return "", &FormatError{u.archive, "member path " + rel + " escapes the archive folder"}
	}
	return filepath.Join(u.tmp, filepath.FromSlash(rel)), nil
}

func (u *unpacker) mkdir(rel string) error {
	if u == nil || rel == "." {
		return nil
	}
	p, err := u.local(rel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		u.abandon()
		return fmt.Errorf("data: unpack %s: %w", u.archive, err)
	}
	return nil
}

func (u *unpacker) write(rel string, r io.Reader) error {
	p, err := u.local(rel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		u.abandon()
		return fmt.Errorf("data: unpack %s: %w", u.archive, err)
	}
	f, err := os.Create(p)
	if err == nil {
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		u.abandon()
		return fmt.Errorf("data: unpack %s member %s: %w", u.archive, rel, err)
	}
	return nil
}

// finish moves the complete folder into place. If another process got
// there first, its copy is kept.
func (u *unpacker) finish() error {
	if err := os.Rename(u.tmp, u.final); err != nil {
		u.abandon()
		if st, serr := os.Stat(u.final); serr == nil && st.IsDir() {
			return nil
		}
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return fmt.Errorf("data: unpack %s: %w", u.archive, err)
	}
	return nil
}

// abandon removes the temporary folder.
func (u *unpacker) abandon() {
	if u != nil {
		os.RemoveAll(u.tmp)
	}
}
