package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileList opens CSV file lists: paths relative to the list, class
// names or integer labels, a header row, comments; and refuses bad ones
// with the line.
func TestFileList(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "imgs/a.jpg", encode(t, rgbImage(6, 5, 0), ".jpg"))
	writeFile(t, dir, "imgs/b.png", encode(t, rgbImage(8, 3, 1), ".png"))
	writeFile(t, dir, "other/c.gif", encode(t, rgbImage(4, 4, 2), ".gif"))
	abs := filepath.Join(dir, "other", "c.gif")
	for _, tc := range []struct {
		name, text string
		n          int
		labels     []int
		classes    string
	}{
		{"named.csv", "path,label\nimgs/b.png,zebra\n# a comment\n\nimgs/a.jpg, ant\n" + abs + ",zebra\n", 3, []int{1, 0, 1}, "ant,zebra"},
		{"numbered.csv", "imgs/a.jpg,2\nimgs/b.png,0\n", 2, []int{2, 0}, "0,1,2"},
		{"unlabelled.csv", "path\nimgs/a.jpg\nother/c.gif\n", 2, []int{-1, -1}, ""},
	} {
		p := writeFile(t, dir, tc.name, []byte(tc.text))
		ds, err := Open(p, OpenOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ds.Len() != tc.n || strings.Join(ds.ClassNames(), ",") != tc.classes {
			t.Fatalf("%s: %d images, classes %v; want %d, %s", tc.name, ds.Len(), ds.ClassNames(), tc.n, tc.classes)
		}
		for i, l := range tc.labels {
			if ds.Label(i) != l {
				t.Errorf("%s: label %d = %d, want %d", tc.name, i, ds.Label(i), l)
			}
		}
	}
	ds, _ := Open(filepath.Join(dir, "named.csv"), OpenOptions{})
	if r, err := ds.(RawDataset).Raw(0); err != nil || r.H != 3 || r.W != 8 {
		t.Errorf("row 1 (imgs/b.png) read as %dx%d (%v), want 8x3", r.W, r.H, err)
	}
	for _, tc := range []struct{ name, text, msg string }{
		{"mixed.csv", "imgs/a.jpg,cat\nimgs/b.png\n", "line 2: some rows have a label"},
		{"fields.csv", "imgs/a.jpg,cat,extra\n", "line 1: 3 fields"},
		{"empty.csv", "# nothing\n", "no rows"},
		{"quote.csv", "\"imgs/a.jpg,cat\n", "line 1"},
		{"missing.csv", "imgs/none.jpg,cat\n", "none.jpg"},
	} {
		p := writeFile(t, dir, tc.name, []byte(tc.text))
		if _, err := Open(p, OpenOptions{}); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.msg)
		}
	}
	if _, err := Open(filepath.Join(dir, "named.csv")+":val", OpenOptions{}); err == nil || !strings.Contains(err.Error(), "one split") {
		t.Errorf("list.csv:val: %v, want an error saying a list is one split", err)
	}
}

// FuzzFileList: parseFileList never panics, and what it accepts is
// consistent: one label per path (or none), labels inside the classes,
// no empty paths.
func FuzzFileList(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "filelist", "*.csv"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fl, err := parseFileList("fuzz.csv", b)
		if err != nil {
			return
		}
		if len(fl.paths) == 0 || (fl.labels != nil && len(fl.labels) != len(fl.paths)) {
			t.Fatalf("%d paths, %d labels", len(fl.paths), len(fl.labels))
		}
		for i, p := range fl.paths {
			if p == "" {
				t.Fatalf("empty path %d", i)
			}
		}
		for _, l := range fl.labels {
			if l < 0 || int(l) >= len(fl.classes) {
				t.Fatalf("label %d outside %d classes", l, len(fl.classes))
			}
		}
	})
}
