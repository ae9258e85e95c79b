package data

import (
	"bytes"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDecodeLikePIL decodes every file of testdata/decode (written by
// tools/gen_decode_fixtures.py) and compares its RGB pixels with PIL's
// Image.open(f).convert("RGB"): exactly for the lossless formats, within a
// stated tolerance for JPEG and lossy WebP, whose decoders (libjpeg and
// libwebp against image/jpeg and x/image/webp) round and upsample chroma
// differently.
func TestDecodeLikePIL(t *testing.T) {
	for _, tc := range []struct {
		file     string
		maxDiff  int     // largest difference of one value
		meanDiff float64 // mean absolute difference
	}{
		{"rgb.jpeg", 16, 5}, // chroma upsampled nearest here, "fancy" (triangular) in libjpeg
		{"gray.jpeg", 2, 0.5},
		{"cmyk.jpeg", 2, 0.1},
		{"rgba.png", 0, 0},
		{"la.png", 0, 0},
		{"palette.png", 0, 0},
		{"rgb16.png", 0, 0},
		{"anim.gif", 0, 0},
		{"lossless.webp", 0, 0},
		{"alpha.webp", 0, 0},
		{"lossy.webp", 32, 9}, // the same, in libwebp
		{"png-named.JPEG", 0, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			dir := filepath.Join("testdata", "decode")
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(tc.file, filepath.Ext(tc.file))+".rgb"))
			if err != nil {
				t.Fatalf("%v (re-run /usr/bin/python3 tools/gen_decode_fixtures.py)", err)
			}
			hdr, err := readHeader(bytes.NewReader(b), 0)
			if err != nil {
				t.Fatal(err)
			}
			if hdr.h != 12 || hdr.w != 17 {
				t.Fatalf("header %+v, want 12x17", hdr)
			}
			got := make([]uint8, 12*17*3)
			if err := decodeInto(got, b, hdr, 3); err != nil {
				t.Fatal(err)
			}
			maxD, sum := 0, 0
			for i := range got {
				d := int(got[i]) - int(want[i])
				d = max(d, -d)
				maxD = max(maxD, d)
				sum += d
			}
			mean := float64(sum) / float64(len(got))
			if maxD > tc.maxDiff || mean > tc.meanDiff {
				t.Errorf("differs from PIL's convert(\"RGB\"): max %d (want <= %d), mean %.3f (want <= %.3f)", maxD, tc.maxDiff, mean, tc.meanDiff)
			}
			t.Logf("max diff %d, mean %.3f", maxD, mean)
		})
	}
}

// TestYCbCrFastPath: toU8's row loop gives color.YCbCrToRGB's pixels for
// every chroma subsampling and for odd sizes.
func TestYCbCrFastPath(t *testing.T) {
	for _, r := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		m := image.NewYCbCr(image.Rect(0, 0, 13, 7), r)
		for i := range m.Y {
			m.Y[i] = uint8(i * 37)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*53+9), uint8(255-i*29)
		}
		got := make([]uint8, 13*7*3)
		toU8(got, m, 3)
		for y := range 7 {
			for x := range 13 {
				c := m.YCbCrAt(x, y)
				r8, g8, b8 := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				if i := (y*13 + x) * 3; got[i] != r8 || got[i+1] != g8 || got[i+2] != b8 {
					t.Fatalf("%v (%d,%d): %v, want %v", r, x, y, got[i:i+3], []uint8{r8, g8, b8})
				}
			}
		}
	}
}
