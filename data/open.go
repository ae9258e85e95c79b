package data

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultMaxMemory is the default budget for the decoded pixels of an
// image folder or archive held in memory: 4 GiB.
const DefaultMaxMemory = 4 << 30

// OpenOptions tune Open. The zero value is ready to use: bad files are
// errors, images are held in memory up to DefaultMaxMemory, warnings go to
// os.Stderr.
type OpenOptions struct {
	// SkipBad skips an unreadable image file (corrupt, truncated, or of
	// another size than the rest of its folder) and tolerates an empty
	// class folder, each with a warning to Warn and a final count, instead
	// of failing. Skipped lists the files skipped.
	SkipBad bool
	// Warn receives the warnings of SkipBad; nil means os.Stderr.
	Warn io.Writer
	// MaxMemory bounds the decoded uint8 pixels of an image folder or
	// archive held in memory, in bytes; 0 means DefaultMaxMemory. A folder
	// above it is decoded from disk on every access; an archive above it is
	// unpacked once into CacheDir and then read like a folder. MNIST, IDX
	// and CIFAR binary sets are always held in memory.
	MaxMemory int64
	// AllowMixedSizes is kept for compatibility and has no effect: an image
	// folder whose images differ in size always opens (Shape then reports
	// h = w = 0, and batching needs an augmentation that crops every view
	// to one size, or eval's EvalView). SameSize asks for the old check.
	AllowMixedSizes bool
	// SameSize makes a folder whose images differ in size an error (or,
	// with SkipBad, keeps only the images of the most common size).
	SameSize bool
	// MaxPixels refuses an image whose header claims more pixels (width ×
	// height), before anything is allocated for it; 0 means
	// DefaultMaxPixels, PIL's 89,478,485.
	MaxPixels int64
	// CacheDir is where an archive above MaxMemory is unpacked; "" means
	// os.UserCacheDir()/contrastive/unpacked.
	CacheDir string
}

func (o *OpenOptions) maxMemory() int64 {
	if o.MaxMemory > 0 {
		return o.MaxMemory
	}
	return DefaultMaxMemory
}

func (o *OpenOptions) warn() io.Writer {
	if o.Warn != nil {
		return o.Warn
	}
	return os.Stderr
}

// bad reports a problem with a file: an error, or with SkipBad a warning.
func (o *OpenOptions) bad(path, msg string) error {
	if !o.SkipBad {
		return &FormatError{path, msg}
	}
	fmt.Fprintf(o.warn(), "data: warning: skipping %s: %s\n", path, msg)
	return nil
}

// summary prints the count of skipped files.
func (o *OpenOptions) summary(s *set, root string) {
	if len(s.skipped) > 0 {
		fmt.Fprintf(o.warn(), "data: warning: skipped %d bad image files in %s\n", len(s.skipped), root)
	}
}

// Open opens the dataset a reference names: PATH[:split], split "train"
// (the default), "val" (alias "validation") or "test". PATH is "mnist" (the embedded MNIST), a folder
// (IDX files, CIFAR binary files, or images in class folders) or a .tar,
// .tgz or .tar.gz archive of one; see the package documentation for the
// layouts. Errors about the files are *FormatError values naming the file.
func Open(ref string, opt OpenOptions) (Dataset, error) {
	p, split, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	var s *set
	switch st, serr := os.Stat(p); {
	case p == "mnist" && split == "val":
		err = fmt.Errorf("data: mnist has no val split (train and test only)")
	case p == "mnist":
		s, err = openMNIST(split)
	case serr != nil:
		err = fmt.Errorf("data: open dataset %s (want \"mnist\", a folder, a .csv file list or a .tar/.tgz archive): %w", p, serr)
	case st.IsDir():
		s, err = openDir(p, p+":"+split, split, &opt)
	case isFileListName(p):
		s, err = openFileList(p, p, split, &opt)
	case isArchiveName(p):
		s, err = openArchive(p, p+":"+split, split, &opt)
	default:
		err = &FormatError{p, "not a dataset: want \"mnist\", a folder, or a .tar, .tgz or .tar.gz archive"}
	}
	if err != nil {
		return nil, err // not a typed nil *set in the interface
	}
	return s, nil
}

// parseRef splits PATH[:split]. A colon followed by anything but a split
// name is part of the path when that path exists.
func parseRef(ref string) (path, split string, err error) {
	if ref == "" {
		return "", "", fmt.Errorf("data: empty dataset reference (want PATH[:train|:val|:test] or mnist)")
	}
	i := strings.LastIndexByte(ref, ':')
	if i < 0 {
		return ref, "train", nil
	}
	if s := canonSplit(ref[i+1:]); s != "" {
		return ref[:i], s, nil
	}
	if _, err := os.Stat(ref); err == nil {
		return ref, "train", nil
	}
	return "", "", fmt.Errorf("data: dataset reference %q: unknown split %q (want train, val, validation or test)", ref, ref[i+1:])
}

func isArchiveName(p string) bool {
	l := strings.ToLower(p)
	return strings.HasSuffix(l, ".tar") || strings.HasSuffix(l, ".tgz") || strings.HasSuffix(l, ".tar.gz")
}

// openDir opens a folder: IDX files, CIFAR binary files (in it or in its
// cifar-10-batches-bin / cifar-100-binary sub-folder), or an image folder.
func openDir(dir, name, split string, opt *OpenOptions) (*set, error) {
	// Shards written by `contrastive prepare`: DIR/index.json (one split,
	// "train"), or DIR/<split>/index.json.
	if _, err := os.Stat(filepath.Join(dir, ShardIndexFile)); err == nil {
		if split != "train" {
			return nil, &FormatError{dir, "a shard folder is one split: prepare the " + split + " split into its own folder (DIR/" + split + "/" + ShardIndexFile + ")"}
		}
		return openShards(dir, name, opt)
	}
	for _, sub := range splitFolders(split) {
		if _, err := os.Stat(filepath.Join(dir, sub, ShardIndexFile)); err == nil {
			return openShards(filepath.Join(dir, sub), name, opt)
		}
	}
	if s, ok, err := openBinary(dirSource(dir), name, split); ok {
		return s, err
	}
	for _, sub := range []string{"cifar-10-batches-bin", "cifar-100-binary"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err == nil && st.IsDir() {
			if s, ok, err := openBinary(dirSource(filepath.Join(dir, sub)), name, split); ok {
				return s, err
			}
		}
	}
	return openFolder(dir, name, split, false, opt)
}

// openBinary opens fs as an IDX or CIFAR binary folder; ok is false when
// it is neither.
func openBinary(fs fileSource, name, split string) (s *set, ok bool, err error) {
	isBin := isIDX(fs) || isCIFAR10(fs) || isCIFAR100(fs)
	switch {
	case isBin && split == "val":
		return nil, true, &FormatError{fs.where(), "IDX and CIFAR binary sets have no val split (train and test only)"}
	case isIDX(fs):
		s, err = loadIDX(fs, name, split)
	case isCIFAR10(fs):
		s, err = loadCIFAR(fs, name, split, false)
	case isCIFAR100(fs):
		s, err = loadCIFAR(fs, name, split, true)
	default:
		return nil, false, nil
	}
	return s, true, err
}

// splitFolders are the folder names of a split.
func splitFolders(split string) []string {
	if split == "val" {
		return []string{"val", "validation"}
	}
	return []string{split}
}
