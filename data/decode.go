package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // register GIF
	_ "image/jpeg"
	_ "image/png"
	"io"
	"path"
	"strings"
	"sync"
)

// maxPixels bounds the size an image header may claim (16k × 16k), so a
// corrupt header cannot make a decoder allocate gigabytes.
const maxPixels = 1 << 28

// isImageName reports whether a file name has an image extension we
// decode; other files (README.md, .DS_Store) in a folder are ignored.
func isImageName(name string) bool {
	base := path.Base(name)
	if strings.HasPrefix(base, ".") {
		return false
	}
	switch strings.ToLower(path.Ext(base)) {
	case ".png", ".jpg", ".jpeg", ".gif":
		return true
	}
	return false
}

// header is what an image file's header says about its pixels.
type header struct {
	h, w int
	gray bool // one channel (gray PNG or JPEG)
}

// readHeader reads an image header (PNG, JPEG or GIF).
func readHeader(r io.Reader) (header, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return header{}, fmt.Errorf("not a readable PNG, JPEG or GIF image: %v", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return header{}, fmt.Errorf("image header claims %dx%d pixels", cfg.Width, cfg.Height)
	}
	gray := cfg.ColorModel == color.GrayModel || cfg.ColorModel == color.Gray16Model
	return header{h: cfg.Height, w: cfg.Width, gray: gray}, nil
}

// headerOf reads the header of an encoded image held in memory, straight
// from the IHDR chunk for a PNG (image.DecodeConfig allocates a decoder).
func headerOf(b []byte) (header, error) {
	if len(b) >= 33 && bytes.HasPrefix(b, pngSig) && string(b[12:16]) == "IHDR" && binary.BigEndian.Uint32(b[8:]) == 13 {
		w, h := binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:])
		if w >= 1 && h >= 1 && uint64(w)*uint64(h) <= maxPixels {
			return header{h: int(h), w: int(w), gray: b[25] == 0}, nil
		}
	}
	return readHeader(bytes.NewReader(b))
}

// decodeBytes decodes an encoded image and checks it against its header.
func decodeBytes(b []byte, want header) (image.Image, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("corrupt or truncated image: %v", err)
	}
	if r := img.Bounds(); r.Dx() != want.w || r.Dy() != want.h {
		return nil, fmt.Errorf("decoded %dx%d image, header said %dx%d", r.Dx(), r.Dy(), want.w, want.h)
	}
	return img, nil
}

// pngDecoders are the fast-path PNG decoders, reused across files.
var pngDecoders = sync.Pool{New: func() any { return new(pngDecoder) }}

// decodeInto decodes an encoded image whose header said want into dst
// (h*w*c bytes of HWC uint8), through the PNG fast path when it applies.
func decodeInto(dst []uint8, b []byte, want header, c int) error {
	d := pngDecoders.Get().(*pngDecoder)
	err := d.decode(dst, b, want, c)
	pngDecoders.Put(d)
	if err != errPNGFallback {
		return err
	}
	img, err := decodeBytes(b, want)
	if err != nil {
		return err
	}
	toU8(dst, img, c)
	return nil
}

// toU8 writes img into dst as HWC uint8 with c channels (1 or 3): gray
// images are replicated to RGB when c is 3; colour images keep their
// non-premultiplied RGB and drop alpha (PIL's convert("RGB")); c is 1 only
// when the image is gray. len(dst) must be h*w*c.
func toU8(dst []uint8, img image.Image, c int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if _, ok := img.(*image.Gray); c == 1 && !ok {
		img = genericImage{img} // e.g. a gray PNG with a transparent colour
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			if c == 1 {
				copy(dst[y*w:(y+1)*w], row)
				continue
			}
			d := dst[y*w*3 : (y+1)*w*3]
			for x, v := range row {
				d[3*x], d[3*x+1], d[3*x+2] = v, v, v
			}
		}
	case *image.RGBA:
		rgbaRows(dst, m.Pix, m.Stride, w, h)
	case *image.NRGBA:
		rgbaRows(dst, m.Pix, m.Stride, w, h)
	case *image.YCbCr:
		for y := range h {
			d := dst[y*w*3 : (y+1)*w*3]
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				d[3*x], d[3*x+1], d[3*x+2] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8
		for i, col := range m.Palette {
			n := color.NRGBAModel.Convert(col).(color.NRGBA)
			lut[i] = [3]uint8{n.R, n.G, n.B}
		}
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			d := dst[y*w*3 : (y+1)*w*3]
			for x, p := range row {
				d[3*x], d[3*x+1], d[3*x+2] = lut[p][0], lut[p][1], lut[p][2]
			}
		}
	default:
		// General but slow path: 16-bit PNG, CMYK JPEG, anything else.
		for y := range h {
			for x := range w {
				col := img.At(b.Min.X+x, b.Min.Y+y)
				if c == 1 {
					dst[y*w+x] = color.GrayModel.Convert(col).(color.Gray).Y
					continue
				}
				n := color.NRGBAModel.Convert(col).(color.NRGBA)
				dst[(y*w+x)*3], dst[(y*w+x)*3+1], dst[(y*w+x)*3+2] = n.R, n.G, n.B
			}
		}
	}
}

// rgbaRows copies the RGB bytes of 4-byte-per-pixel rows into dst.
func rgbaRows(dst, pix []uint8, stride, w, h int) {
	for y := range h {
		row := pix[y*stride : y*stride+4*w]
		d := dst[y*w*3 : (y+1)*w*3]
		for x := range w {
			d[3*x], d[3*x+1], d[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
}

// genericImage hides an image's concrete type so that toU8 takes its
// general path.
type genericImage struct{ image.Image }
