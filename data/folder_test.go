package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rawPixels returns img as HWC uint8 RGB.
func rawPixels(img image.Image) []uint8 {
	b := img.Bounds()
	var out []uint8
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			out = append(out, c.R, c.G, c.B)
		}
	}
	return out
}

func TestImageFolderSplits(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "pets") // ROOT may sit below the opened folder
	imgs := map[string]image.Image{}
	add := func(rel string, seed int) {
		img := rgbImage(6, 5, seed)
		imgs[rel] = img
		writeFile(t, root, rel, encode(t, img, ".png"))
	}
	add("train/dog/b.png", 1)
	add("train/dog/a.png", 2)
	add("train/cat/z.PNG", 3)
	add("test/cat/x.png", 4)
	add("test/eel/y.png", 5)
	writeFile(t, root, "README.md", []byte("not an image"))
	writeFile(t, root, "preview.png", encode(t, rgbImage(9, 9, 0), ".png")) // outside train/ and test/: ignored
	if err := os.MkdirAll(filepath.Join(root, "test", "fox"), 0o755); err != nil {
		t.Fatal(err)
	}

	ds, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(ds.ClassNames()); got != "[cat dog eel fox]" {
		t.Errorf("classes %s, want the sorted folders of both splits [cat dog eel fox]", got)
	}
	if h, w, c := ds.Shape(); ds.Len() != 3 || h != 5 || w != 6 || c != 3 {
		t.Fatalf("%d images of %dx%dx%d, want 3 of 5x6x3", ds.Len(), h, w, c)
	}
	order := []string{"train/cat/z.PNG", "train/dog/a.png", "train/dog/b.png"}
	for i, rel := range order {
		r, err := ds.(RawDataset).Raw(i)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Pix, rawPixels(imgs[rel])) {
			t.Errorf("image %d: pixels differ from %s", i, rel)
		}
		if want := []int{0, 1, 1}[i]; ds.Label(i) != want {
			t.Errorf("image %d (%s): label %d, want %d", i, rel, ds.Label(i), want)
		}
	}
	// The test split has an empty class folder (fox): an error naming it,
	// or a warning with SkipBad.
	_, err = Open(dir+":test", OpenOptions{})
	wantFormatError(t, err, "pets/test/fox", "empty class folder")
	var warn strings.Builder
	test, err := Open(dir+":test", OpenOptions{SkipBad: true, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if test.Len() != 2 || test.Label(1) != 2 || !strings.Contains(warn.String(), "fox: empty class folder") {
		t.Errorf("test split: %d images, label 1 = %d, warnings %q", test.Len(), test.Label(1), warn.String())
	}
}

func TestImageFolderLayouts(t *testing.T) {
	// DIR/<class>/<image>: one labelled split.
	dir := t.TempDir()
	writeFile(t, dir, "b/1.jpg", encode(t, rgbImage(8, 8, 0), ".jpg"))
	writeFile(t, dir, "a/1.gif", encode(t, paletted(rgbImage(8, 8, 0)), ".gif"))
	ds, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2 || ds.NumClasses() != 2 || ds.Label(0) != 0 || ds.Label(1) != 1 {
		t.Errorf("class folders: %d images, classes %v, labels %d %d", ds.Len(), ds.ClassNames(), ds.Label(0), ds.Label(1))
	}
	want := rawPixels(rgbImage(8, 8, 0))
	for i, tol := range []int{0, 12} { // GIF exact, JPEG (quality 100) close
		r, _ := ds.(RawDataset).Raw(i)
		worst := 0
		for j := range r.Pix {
			worst = max(worst, absInt(int(r.Pix[j])-int(want[j])))
		}
		if worst > tol {
			t.Errorf("image %d: max pixel error %d, want <= %d", i, worst, tol)
		}
	}
	_, err = Open(dir+":test", OpenOptions{})
	wantFormatError(t, err, filepath.Base(dir), "no test split")

	// A flat folder: unlabelled.
	dir = t.TempDir()
	for i := range 3 {
		writeFile(t, dir, fmt.Sprintf("img%d.png", i), encode(t, rgbImage(4, 4, i), ".png"))
	}
	ds, err = Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 || ds.NumClasses() != 0 || ds.Label(2) != -1 {
		t.Errorf("flat folder: %d images, %d classes, label %d", ds.Len(), ds.NumClasses(), ds.Label(2))
	}

	// Mixed depth is no known layout.
	writeFile(t, dir, "sub/x.png", encode(t, rgbImage(4, 4, 0), ".png"))
	_, err = Open(dir, OpenOptions{})
	wantFormatError(t, err, "sub/x.png", "unrecognised folder layout")

	// An image directly in train/.
	dir = t.TempDir()
	writeFile(t, dir, "train/x.png", encode(t, rgbImage(4, 4, 0), ".png"))
	_, err = Open(dir, OpenOptions{})
	wantFormatError(t, err, "train/x.png", "not in a class folder")
}

func TestImageFolderGray(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 3, 2))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(40 * i)
	}
	dir := t.TempDir()
	writeFile(t, dir, "a.png", encode(t, gray, ".png"))
	writeFile(t, dir, "b.png", encode(t, gray, ".png"))
	ds, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := ds.(RawDataset).Raw(1)
	if _, _, c := ds.Shape(); c != 1 || !bytes.Equal(r.Pix, gray.Pix) {
		t.Errorf("gray folder: %d channels, pixels %v, want 1 and %v", c, r.Pix, gray.Pix)
	}
	// One colour image makes the folder RGB; gray images are replicated.
	writeFile(t, dir, "c.png", encode(t, rgbImage(3, 2, 0), ".png"))
	ds, err = Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, _ = ds.(RawDataset).Raw(1)
	if _, _, c := ds.Shape(); c != 3 || r.Pix[3*5] != 200 || r.Pix[3*5+1] != 200 || r.Pix[3*5+2] != 200 {
		t.Errorf("mixed folder: %d channels, last pixel %v, want 3 and [200 200 200]", c, r.Pix[15:])
	}
}

func TestImageFolderBad(t *testing.T) {
	good := encode(t, rgbImage(4, 4, 0), ".png")
	for _, tc := range []struct {
		name, file string
		data       []byte
		msg        string
		sameSize   bool
	}{
		{"corrupt", "train/cat/bad.png", []byte("this is not a PNG file"), "not a readable", false},
		{"truncated", "train/cat/bad.png", good[:len(good)-20], "corrupt or truncated", false},
		{"bad checksum", "train/cat/bad.png", flipByte(good, len(good)-30), "corrupt", false},
		{"mixed size", "train/cat/bad.png", encode(t, rgbImage(5, 4, 0), ".png"), "mixes image sizes", true},
		{"empty file", "train/cat/bad.png", nil, "not a readable", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "train/cat/a.png", good)
			writeFile(t, dir, "train/cat/b.png", good)
			writeFile(t, dir, "train/dog/c.png", good)
			writeFile(t, dir, tc.file, tc.data)
			_, err := Open(dir, OpenOptions{SameSize: tc.sameSize})
			wantFormatError(t, err, tc.file, tc.msg)
			var warn strings.Builder
			ds, err := Open(dir, OpenOptions{SkipBad: true, Warn: &warn, SameSize: tc.sameSize})
			if err != nil {
				t.Fatal(err)
			}
			sk := Skipped(ds)
			if ds.Len() != 3 || ds.Label(2) != 1 || len(sk) != 1 || !strings.Contains(sk[0], "bad.png") ||
				!strings.Contains(warn.String(), "skipped 1 bad image files") {
				t.Errorf("SkipBad: %d images, label 2 = %d, skipped %q, warnings %q", ds.Len(), ds.Label(2), sk, warn.String())
			}
			r, _ := ds.(RawDataset).Raw(2)
			if !bytes.Equal(r.Pix, rawPixels(rgbImage(4, 4, 0))) {
				t.Errorf("SkipBad: the images after the skipped one moved wrongly")
			}
		})
	}
	// Nothing readable at all.
	dir := t.TempDir()
	writeFile(t, dir, "x.png", []byte("junk"))
	if _, err := Open(dir, OpenOptions{SkipBad: true, Warn: &strings.Builder{}}); err == nil {
		t.Error("a folder of only bad images opened")
	}
	_, err := Open(t.TempDir(), OpenOptions{})
	wantFormatError(t, err, "", "no PNG, JPEG or GIF images")
	_, err = Open(filepath.Join(dir, "x.png"), OpenOptions{})
	wantFormatError(t, err, "x.png", "not a dataset")
	if _, err = Open(dir+":valid", OpenOptions{}); err == nil || !strings.Contains(err.Error(), "unknown split") {
		t.Errorf("split valid: %v", err)
	}
}

// paletted converts img to a paletted image holding its exact colours.
func paletted(img *image.RGBA) *image.Paletted {
	var pal color.Palette
	seen := map[color.RGBA]bool{}
	for y := range img.Rect.Dy() {
		for x := range img.Rect.Dx() {
			if c := img.RGBAAt(x, y); !seen[c] {
				seen[c] = true
				pal = append(pal, c)
			}
		}
	}
	p := image.NewPaletted(img.Rect, pal)
	for y := range img.Rect.Dy() {
		for x := range img.Rect.Dx() {
			p.Set(x, y, img.RGBAAt(x, y))
		}
	}
	return p
}

func flipByte(b []byte, i int) []byte {
	b = slices.Clone(b)
	b[i] ^= 0x55
	return b
}

func TestImageFolderMixedSizesAndStreaming(t *testing.T) {
	dir := t.TempDir()
	sizes := [][2]int{{4, 3}, {7, 5}, {4, 3}}
	for i, s := range sizes {
		writeFile(t, dir, fmt.Sprintf("c/%d.png", i), encode(t, rgbImage(s[0], s[1], i), ".png"))
	}
	for _, budget := range []int64{0, 1} { // in memory, then streamed from disk
		ds, err := Open(dir, OpenOptions{AllowMixedSizes: true, MaxMemory: budget})
		if err != nil {
			t.Fatal(err)
		}
		if h, w, c := ds.Shape(); h != 0 || w != 0 || c != 3 || (ds.(*set).stream != nil) != (budget == 1) {
			t.Errorf("budget %d: shape %dx%dx%d, streamed %v", budget, h, w, c, ds.(*set).stream != nil)
		}
		for i, s := range sizes {
			img, err := ds.Image(i)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := ds.(RawDataset).Raw(i)
			if img.W != s[0] || img.H != s[1] || !bytes.Equal(r.Pix, rawPixels(rgbImage(s[0], s[1], i))) {
				t.Errorf("budget %d: image %d is %dx%d or its pixels differ", budget, i, img.W, img.H)
			}
		}
	}
	// A streamed fixed-size folder, and a file removed after Open.
	dir = t.TempDir()
	for i := range 3 {
		writeFile(t, dir, fmt.Sprintf("%d.png", i), encode(t, rgbImage(4, 4, i), ".png"))
	}
	ds, err := Open(dir, OpenOptions{MaxMemory: 100})
	if err != nil {
		t.Fatal(err)
	}
	if h, w, _ := ds.Shape(); h != 4 || w != 4 || ds.(*set).stream == nil {
		t.Fatalf("3 images of 4x4x3 = 144 bytes over a budget of 100: got %dx%d, streamed %v", h, w, ds.(*set).stream != nil)
	}
	os.Remove(filepath.Join(dir, "1.png"))
	_, err = ds.Image(1)
	wantFormatError(t, err, "1.png", "disappeared")
}

// TestImageFolderSymlinks: a dataset whose folder, or whose train/, is a
// symbolic link opens like the real thing.
func TestImageFolderSymlinks(t *testing.T) {
	real := t.TempDir()
	writeFile(t, real, "cat/1.png", encode(t, rgbImage(3, 3, 1), ".png"))
	writeFile(t, real, "dog/1.png", encode(t, rgbImage(3, 3, 2), ".png"))
	dir := t.TempDir()
	if err := os.Symlink(real, filepath.Join(dir, "train")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, link} {
		ds, err := Open(p, OpenOptions{})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if ds.Len() != 2 || ds.NumClasses() != 2 {
			t.Errorf("%s: %d images in %d classes, want 2 in 2", p, ds.Len(), ds.NumClasses())
		}
	}
}
