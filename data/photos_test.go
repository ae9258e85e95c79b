package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

// TestValSplit opens the ImageNet layout: train/, val/ (or validation/)
// and test/ class folders, as PATH:train, PATH:val, PATH:validation and
// PATH:test, with one class numbering.
func TestValSplit(t *testing.T) {
	for _, valDir := range []string{"val", "validation"} {
		dir := t.TempDir()
		writeFile(t, dir, "train/cat/a.jpg", encode(t, rgbImage(6, 5, 0), ".jpg"))
		writeFile(t, dir, "train/dog/b.jpg", encode(t, rgbImage(9, 7, 1), ".jpg"))
		writeFile(t, dir, valDir+"/dog/c.jpg", encode(t, rgbImage(4, 8, 2), ".jpg"))
		writeFile(t, dir, valDir+"/eel/d.png", encode(t, rgbImage(4, 4, 3), ".png"))
		writeFile(t, dir, "test/cat/e.png", encode(t, rgbImage(5, 5, 4), ".png"))
		for _, tc := range []struct {
			split  string
			n      int
			labels []int
		}{
			{"", 2, []int{0, 1}},
			{":train", 2, []int{0, 1}},
			{":val", 2, []int{1, 2}},
			{":validation", 2, []int{1, 2}},
			{":test", 1, []int{0}},
		} {
			ds, err := Open(dir+tc.split, OpenOptions{})
			if err != nil {
				t.Fatalf("%s%s: %v", valDir, tc.split, err)
			}
			if ds.Len() != tc.n || ds.NumClasses() != 3 || strings.Join(ds.ClassNames(), ",") != "cat,dog,eel" {
				t.Fatalf("%s%s: %d images, classes %v; want %d and cat,dog,eel", valDir, tc.split, ds.Len(), ds.ClassNames(), tc.n)
			}
			for i, l := range tc.labels {
				if ds.Label(i) != l {
					t.Errorf("%s%s: label %d = %d, want %d", valDir, tc.split, i, ds.Label(i), l)
				}
			}
			// Mixed sizes open without an option; each image keeps its size.
			if h, w, _ := ds.Shape(); tc.n > 1 && (h != 0 || w != 0) {
				t.Errorf("%s%s: shape %dx%d for images of different sizes, want 0x0", valDir, tc.split, h, w)
			}
		}
		ds, _ := Open(dir+":val", OpenOptions{})
		r, err := ds.(RawDataset).Raw(0)
		if err != nil || r.H != 8 || r.W != 4 || r.C != 3 {
			t.Errorf("val image 0: %dx%dx%d (%v), want 8x4x3", r.H, r.W, r.C, err)
		}
	}
	if _, err := Open("mnist:val", OpenOptions{}); err == nil || !strings.Contains(err.Error(), "no val split") {
		t.Errorf("mnist:val: %v, want an error saying there is no val split", err)
	}
	if _, err := Open(t.TempDir()+":valid", OpenOptions{}); err == nil || !strings.Contains(err.Error(), "unknown split") {
		t.Errorf(":valid: %v, want unknown split", err)
	}
}

// pngHeaderOnly is a PNG signature and an IHDR chunk claiming w×h RGB
// pixels, then a zero-length IDAT and IEND: a decompression bomb's
// header without its payload.
func pngHeaderOnly(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(b, typ...)
		b = append(b, data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	b := append([]byte(nil), pngSig...)
	b = append(b, chunk("IHDR", ihdr)...)
	b = append(b, chunk("IDAT", nil)...)
	return append(b, chunk("IEND", nil)...)
}

// TestPixelLimit: an image whose header claims more than PIL's
// 89,478,485 pixels is refused by name before anything is allocated for
// it; MaxPixels raises or lowers the limit.
func TestPixelLimit(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a/ok.png", encode(t, rgbImage(4, 4, 0), ".png"))
	bomb := writeFile(t, dir, "a/bomb.JPEG", pngHeaderOnly(10000, 9000)) // 90 M pixels, a PNG named .JPEG
	_, err := Open(dir, OpenOptions{})
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Path != bomb || !strings.Contains(err.Error(), "more than the limit of 89478485") {
		t.Fatalf("bomb: %v, want a FormatError naming %s and the limit", err, bomb)
	}
	// Raising the limit lets the header through: over a 1 MiB budget the
	// folder is streamed, and the missing payload is an error of its own
	// when the image is read.
	ds, err := Open(dir, OpenOptions{MaxPixels: 100_000_000, MaxMemory: 1 << 20})
	if err != nil || ds.Len() != 2 {
		t.Fatalf("MaxPixels 1e8: %v", err)
	}
	if _, err := ds.Image(0); err == nil || !strings.Contains(err.Error(), "bomb.JPEG") {
		t.Errorf("reading the bomb: %v, want an error naming it", err)
	}
	// A lower limit refuses an ordinary image; SkipBad skips it.
	var warn bytes.Buffer
	ds, err = Open(dir, OpenOptions{MaxPixels: 10, SkipBad: true, Warn: &warn})
	if err == nil || ds != nil {
		t.Errorf("MaxPixels 10 with SkipBad: %v images, error %v; want no readable images", ds, err)
	}
	if !strings.Contains(warn.String(), "ok.png") || !strings.Contains(warn.String(), "limit of 10") {
		t.Errorf("warnings %q do not name ok.png and the limit", warn.String())
	}
}
