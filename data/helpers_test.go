package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFile writes b to dir/name, creating folders.
func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// idxImages encodes n h×w images whose pixel (i, y, x) is pix(i, y, x).
func idxImages(n, h, w int, pix func(i, y, x int) uint8) []byte {
	b := binary.BigEndian.AppendUint32(nil, 0x803)
	for _, v := range []int{n, h, w} {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	for i := range n {
		for y := range h {
			for x := range w {
				b = append(b, pix(i, y, x))
			}
		}
	}
	return b
}

func idxLabels(labels []uint8) []byte {
	b := binary.BigEndian.AppendUint32(nil, 0x801)
	b = binary.BigEndian.AppendUint32(b, uint32(len(labels)))
	return append(b, labels...)
}

// testPix is the pixel pattern of the synthetic test images.
func testPix(i, y, x int) uint8 { return uint8(i*31 + y*7 + x*3) }

// rgbImage returns a w×h RGB image with pixel (x, y) = (seed+x, seed+y, seed+x+y).
func rgbImage(w, h, seed int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(seed + x*9), uint8(seed + y*5), uint8(seed + x*y), 255})
		}
	}
	return img
}

// encode encodes img as PNG, JPEG (quality 100) or GIF by extension.
func encode(t *testing.T, img image.Image, ext string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch ext {
	case ".png":
		err = png.Encode(&buf, img)
	case ".jpg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100})
	case ".gif":
		err = gif.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wantFormatError checks that err is a *FormatError whose path ends with
// path and whose message contains msg.
func wantFormatError(t *testing.T, err error, path, msg string) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("got error %v, want a *FormatError naming %s", err, path)
	}
	if !strings.HasSuffix(filepath.ToSlash(fe.Path), path) || !strings.Contains(fe.Msg, msg) {
		t.Fatalf("got %v, want a FormatError for ...%s containing %q", err, path, msg)
	}
	if !strings.Contains(err.Error(), fe.Path) {
		t.Fatalf("error text %q does not name the file", err)
	}
}
