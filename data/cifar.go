package data

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// CIFAR binary format (https://www.cs.toronto.edu/~kriz/cifar.html): each
// record is the label byte(s) followed by 1024 red, 1024 green and 1024
// blue bytes of a 32×32 image, rows top to bottom. CIFAR-10 records have
// one label byte; CIFAR-100 records have the coarse then the fine label.
const cifarPixels = 32 * 32 * 3

var cifar10Names = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

var dataBatchRE = regexp.MustCompile(`^data_batch_([0-9]+)\.bin$`)

// isCIFAR10 and isCIFAR100 report whether fs looks like a CIFAR binary
// folder.
func isCIFAR10(fs fileSource) bool {
	for _, n := range fs.names() {
		if n == "test_batch.bin" || dataBatchRE.MatchString(n) {
			return true
		}
	}
	return false
}

func isCIFAR100(fs fileSource) bool { return has(fs, "train.bin") || has(fs, "test.bin") }

// loadCIFAR opens the split of a CIFAR-10 or CIFAR-100 binary folder; the
// CIFAR-100 labels are the fine (100-class) ones.
func loadCIFAR(fs fileSource, name, split string, hundred bool) (*set, error) {
	var files []string
	record, labelAt, classes := 1+cifarPixels, 0, 10
	names := cifar10Names
	namesFile := "batches.meta.txt"
	if hundred {
		record, labelAt, classes = 2+cifarPixels, 1, 100
		names = nil
		namesFile = "fine_label_names.txt"
		files = []string{map[string]string{"train": "train.bin", "test": "test.bin"}[split]}
		if !has(fs, files[0]) {
			return nil, &FormatError{fs.where(), "CIFAR-100 folder without " + files[0]}
		}
	} else if split == "test" {
		files = []string{"test_batch.bin"}
		if !has(fs, files[0]) {
			return nil, &FormatError{fs.where(), "CIFAR-10 folder without test_batch.bin"}
		}
	} else {
		for _, n := range fs.names() {
			if dataBatchRE.MatchString(n) {
				files = append(files, n)
			}
		}
		if len(files) == 0 {
			return nil, &FormatError{fs.where(), "CIFAR-10 folder without data_batch_*.bin"}
		}
		num := func(n string) int { k, _ := strconv.Atoi(dataBatchRE.FindStringSubmatch(n)[1]); return k }
		slices.SortFunc(files, func(a, b string) int { return num(a) - num(b) })
	}
	if b, _, err := fs.read(namesFile); err == nil {
		var read []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				read = append(read, l)
			}
		}
		if len(read) == classes {
			names = read
		}
	}
	if names == nil {
		for k := range classes {
			names = append(names, strconv.Itoa(k))
		}
	}
	s := &set{name: name, h: 32, w: 32, c: 3, classes: names}
	for _, f := range files {
		b, p, err := fs.read(f)
		if err != nil {
			return nil, fmt.Errorf("data: read %s: %w", p, err)
		}
		if len(b) == 0 || len(b)%record != 0 {
			return nil, &FormatError{p, fmt.Sprintf("size %d bytes is not a whole number of %d-byte CIFAR records", len(b), record)}
		}
		m := len(b) / record
		s.pix = slices.Grow(s.pix, m*cifarPixels)
		for r := range m {
			rec := b[r*record : (r+1)*record]
			l := int(rec[labelAt])
			if l >= classes {
				return nil, &FormatError{p, fmt.Sprintf("record %d has label %d, want < %d", r, l, classes)}
			}
			s.labels = append(s.labels, int32(l))
			planes := rec[record-cifarPixels:]
			n := len(s.pix)
			s.pix = s.pix[:n+cifarPixels]
			px := s.pix[n:]
			for p := range 1024 { // planar RGB to HWC
				px[3*p], px[3*p+1], px[3*p+2] = planes[p], planes[1024+p], planes[2048+p]
			}
		}
		s.n += m
	}
	return s, nil
}
