package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// isFileListName reports whether a dataset path names a CSV file list.
func isFileListName(p string) bool { return strings.EqualFold(filepath.Ext(p), ".csv") }

// fileList is a parsed CSV file list: image paths (as written, relative to
// the list's folder unless absolute), and per image a class index into
// classes, or no labels at all.
type fileList struct {
	paths   []string
	labels  []int32 // nil when unlabelled
	classes []string
}

// maxListBytes bounds a CSV file list read into memory (16M rows of
// ordinary paths fit).
const maxListBytes = 1 << 30

// parseFileList reads a CSV file list: one image a row, "path" or
// "path,label", an optional header row "path" or "path,label", blank lines
// and lines starting with # ignored. Every row has a label or none does.
// Labels are class names; the classes are their sorted set, except that
// when every label is a non-negative integer the label is the class index
// itself (classes "0" … "max"). name is used in errors, with the line.
func parseFileList(name string, b []byte) (fileList, error) {
	var out fileList
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	var names []string
	first := true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return out, &FormatError{name, fmt.Sprintf("line %d: %v", pe.Line, pe.Err)}
			}
			return out, &FormatError{name, err.Error()}
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && rec[0] == "" {
			continue
		}
		if first {
			first = false
			if h := strings.ToLower(strings.TrimSpace(rec[0])); (h == "path" || h == "file" || h == "filename") &&
				(len(rec) == 1 || strings.EqualFold(strings.TrimSpace(rec[1]), "label") || strings.EqualFold(strings.TrimSpace(rec[1]), "class")) {
				continue
			}
		}
		if len(rec) > 2 {
			return out, &FormatError{name, fmt.Sprintf("line %d: %d fields, want path or path,label", line, len(rec))}
		}
		p := strings.TrimSpace(rec[0])
		if p == "" || strings.ContainsRune(p, 0) {
			return out, &FormatError{name, fmt.Sprintf("line %d: empty or invalid path", line)}
		}
		labelled := len(rec) == 2
		if len(out.paths) > 0 && labelled != (names != nil) {
			return out, &FormatError{name, fmt.Sprintf("line %d: some rows have a label and some do not", line)}
		}
		out.paths = append(out.paths, p)
		if labelled {
			l := strings.TrimSpace(rec[1])
			if l == "" {
				return out, &FormatError{name, fmt.Sprintf("line %d: empty label", line)}
			}
			names = append(names, l)
		}
	}
	if len(out.paths) == 0 {
		return out, &FormatError{name, "no rows: want one image a row, path or path,label"}
	}
	if names == nil {
		return out, nil
	}
	out.labels = make([]int32, len(names))
	numeric := true
	maxLabel := 0
	for _, l := range names {
		v, err := strconv.Atoi(l)
		if err != nil || v < 0 || v >= 1<<20 {
			numeric = false
			break
		}
		maxLabel = max(maxLabel, v)
	}
	if numeric {
		for i, l := range names {
			v, _ := strconv.Atoi(l)
			out.labels[i] = int32(v)
		}
		for k := range maxLabel + 1 {
			out.classes = append(out.classes, strconv.Itoa(k))
		}
		return out, nil
	}
	out.classes = slices.Clone(names)
	slices.Sort(out.classes)
	out.classes = slices.Compact(out.classes)
	for i, l := range names {
		k, _ := slices.BinarySearch(out.classes, l)
		out.labels[i] = int32(k)
	}
	return out, nil
}

// openFileList opens the images a CSV file list names, in its order.
func openFileList(p, name, split string, opt *OpenOptions) (*set, error) {
	if split != "train" {
		return nil, &FormatError{p, "a CSV file list is one split: name the " + split + " list's own file instead of :" + split}
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("data: open file list %s: %w", p, err)
	}
	if st.Size() > maxListBytes {
		return nil, &FormatError{p, fmt.Sprintf("file list of %d bytes, more than %d", st.Size(), maxListBytes)}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("data: read file list %s: %w", p, err)
	}
	fl, err := parseFileList(p, b)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(p)
	ents := make([]*entry, len(fl.paths))
	for i, rel := range fl.paths {
		f := filepath.FromSlash(rel)
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		ents[i] = &entry{rel: rel, show: f, file: f}
		if fl.labels != nil {
			ents[i].label = fl.labels[i]
		}
	}
	lay := layout{sel: fl.paths, labels: fl.labels, classes: fl.classes}
	return buildSet(name, p, ents, lay, opt, true)
}
