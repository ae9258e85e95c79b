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

	_ "golang.org/x/image/webp" // register WebP
	"io"
	"path"
	"strings"
	"sync"
)

// DefaultMaxPixels is the most pixels an image header may claim unless
// OpenOptions.MaxPixels says otherwise: PIL's Image.MAX_IMAGE_PIXELS,
// 1024×1024×1024/4/3 = 89,478,485 (a 89-megapixel image decodes to
// 268 MB of RGB). A larger image is refused from its header, before any
// pixel memory is allocated, so a decompression bomb cannot exhaust the
// machine's memory.
const DefaultMaxPixels = 1024 * 1024 * 1024 / 4 / 3

// pixelLimitError is the message for an image over the pixel limit.
func pixelLimitError(w, h int, limit int64) error {
	return fmt.Errorf("image header claims %dx%d = %d pixels, more than the limit of %d (a decompression bomb?); raise it with --max-pixels (OpenOptions.MaxPixels) if the image is genuine",
		w, h, int64(w)*int64(h), limit)
}

// isImageName reports whether a file name has an image extension we
// decode; other files (README.md, .DS_Store) in a folder are ignored.
func isImageName(name string) bool {
	base := path.Base(name)
	if strings.HasPrefix(base, ".") {
		return false
	}
	switch strings.ToLower(path.Ext(base)) {
	case ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".webp", ".ppm", ".pgm":
		return true
	}
	return false
}

// header is what an image file's header says about its pixels.
type header struct {
	h, w int
	gray bool // one channel (gray PNG or JPEG)
}

// readHeader reads an image header (PNG, JPEG, GIF or WebP, recognised by
// its content, not the file name) and refuses one that claims more than
// limit pixels (0: DefaultMaxPixels).
func readHeader(r io.Reader, limit int64) (header, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return header{}, fmt.Errorf("not a readable PNG, JPEG, GIF or WebP image: %v", err)
	}
	return checkHeader(cfg, limit)
}

// checkHeader turns a decoded image.Config into a header, refusing empty
// images and images over the pixel limit.
func checkHeader(cfg image.Config, limit int64) (header, error) {
	if limit <= 0 {
		limit = DefaultMaxPixels
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return header{}, fmt.Errorf("image header claims %dx%d pixels", cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > limit {
		return header{}, pixelLimitError(cfg.Width, cfg.Height, limit)
	}
	gray := cfg.ColorModel == color.GrayModel || cfg.ColorModel == color.Gray16Model
	return header{h: cfg.Height, w: cfg.Width, gray: gray}, nil
}

// headerOf reads the header of an encoded image held in memory, straight
// from the IHDR chunk for a PNG (image.DecodeConfig allocates a decoder).
func headerOf(b []byte, limit int64) (header, error) {
	if len(b) >= 33 && bytes.HasPrefix(b, pngSig) && string(b[12:16]) == "IHDR" && binary.BigEndian.Uint32(b[8:]) == 13 {
		w, h := binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:])
		if w >= 1 && h >= 1 && w < 1<<31 && h < 1<<31 {
			cm := color.Model(color.RGBAModel)
			if b[25] == 0 {
				cm = color.GrayModel
			}
			return checkHeader(image.Config{Width: int(w), Height: int(h), ColorModel: cm}, limit)
		}
	}
	return readHeader(bytes.NewReader(b), limit)
}

// decodeBytes decodes an encoded image and checks it against its header.
// The header is read again first, so a file replaced since the dataset
// was opened cannot make the decoder allocate for a larger image.
func decodeBytes(b []byte, want header) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("corrupt or truncated image: %v", err)
	}
	if cfg.Width != want.w || cfg.Height != want.h {
		return nil, fmt.Errorf("image header says %dx%d, it said %dx%d when the dataset was opened", cfg.Width, cfg.Height, want.w, want.h)
	}
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
	if ok, err := decodePNMInto(dst, b, want, c); ok {
		return err
	}
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
		hs, vs, ok := chromaShifts(m.SubsampleRatio)
		if !ok || b.Min != (image.Point{}) {
			for y := range h {
				d := dst[y*w*3 : (y+1)*w*3]
				for x := range w {
					yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
					ci := m.COffset(b.Min.X+x, b.Min.Y+y)
					d[3*x], d[3*x+1], d[3*x+2] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				}
			}
			break
		}
		for y := range h {
			d := dst[y*w*3 : (y+1)*w*3]
			ys := m.Y[y*m.YStride : y*m.YStride+w]
			co := (y >> vs) * m.CStride
			cbs, crs := m.Cb[co:], m.Cr[co:]
			for x, yv := range ys {
				d[3*x], d[3*x+1], d[3*x+2] = ycbcrToRGB(yv, cbs[x>>hs], crs[x>>hs])
			}
		}
	case *image.NYCbCrA: // WebP with alpha: drop the alpha, as convert("RGB")
		toU8(dst, &m.YCbCr, c)
	case *image.CMYK:
		// PIL's cmyk2rgb: nk - c*nk/255 with nk = 255-k, rounded as
		// its MULDIV255.
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			d := dst[y*w*3 : (y+1)*w*3]
			for x := range w {
				nk := 255 - int(row[4*x+3])
				for ch := range 3 {
					d[3*x+ch] = uint8(nk - mul255(int(row[4*x+ch]), nk))
				}
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

// chromaShifts are the horizontal and vertical shifts from a luma to a
// chroma index of a subsample ratio (x>>hs, y>>vs); ok is false for a
// ratio not listed.
func chromaShifts(r image.YCbCrSubsampleRatio) (hs, vs uint, ok bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return 0, 0, true
	case image.YCbCrSubsampleRatio422:
		return 1, 0, true
	case image.YCbCrSubsampleRatio420:
		return 1, 1, true
	case image.YCbCrSubsampleRatio440:
		return 0, 1, true
	case image.YCbCrSubsampleRatio411:
		return 2, 0, true
	case image.YCbCrSubsampleRatio410:
		return 2, 1, true
	}
	return 0, 0, false
}

// ycbcrToRGB is color.YCbCrToRGB (the same integer arithmetic, JFIF's
// full-range BT.601), written out so that it inlines into the row loop.
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy1 := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy1 + 91881*cr1
	if uint32(r)&0xff000000 == 0 {
		r >>= 16
	} else {
		r = ^(r >> 31)
	}
	g := yy1 - 22554*cb1 - 46802*cr1
	if uint32(g)&0xff000000 == 0 {
		g >>= 16
	} else {
		g = ^(g >> 31)
	}
	bb := yy1 + 116130*cb1
	if uint32(bb)&0xff000000 == 0 {
		bb >>= 16
	} else {
		bb = ^(bb >> 31)
	}
	return uint8(r), uint8(g), uint8(bb)
}

// mul255 is a*b/255 rounded, for a, b in [0, 255] (PIL's MULDIV255).
func mul255(a, b int) int {
	t := a*b + 128
	return ((t >> 8) + t) >> 8
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
