package data

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/color"
	"io"
	"strconv"
)

// Binary Netpbm images (PGM "P5" and PPM "P6", maxval 255): the raw,
// uncompressed format of `contrastive prepare --format raw`, readable by
// PIL and registered with package image.
func init() {
	image.RegisterFormat("pgm", "P5", decodePNM, decodePNMConfig)
	image.RegisterFormat("ppm", "P6", decodePNM, decodePNMConfig)
}

// pnmHeader parses "P5|P6 <w> <h> 255" followed by one whitespace byte,
// with "#" comments allowed between the fields, and returns the geometry,
// the channel count and the header's length in bytes.
func pnmHeader(b []byte) (w, h, c, n int, err error) {
	if len(b) < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6') {
		return 0, 0, 0, 0, fmt.Errorf("pnm: not a binary PGM or PPM")
	}
	c = 1
	if b[1] == '6' {
		c = 3
	}
	i := 2
	var v [3]int
	for k := range v {
		// Whitespace and comments before the field.
		for {
			if i >= len(b) {
				return 0, 0, 0, 0, fmt.Errorf("pnm: header ends early")
			}
			switch b[i] {
			case ' ', '\t', '\n', '\r', '\v', '\f':
				i++
				continue
			case '#':
				for i < len(b) && b[i] != '\n' {
					i++
				}
				continue
			}
			break
		}
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' && j-i < 10 {
			j++
		}
		if j == i {
			return 0, 0, 0, 0, fmt.Errorf("pnm: header field %d is not a number", k+1)
		}
		v[k], _ = strconv.Atoi(string(b[i:j]))
		i = j
	}
	if i >= len(b) || !(b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		return 0, 0, 0, 0, fmt.Errorf("pnm: no whitespace after the header")
	}
	if v[2] != 255 {
		return 0, 0, 0, 0, fmt.Errorf("pnm: maxval %d, only 255 is supported", v[2])
	}
	if v[0] < 1 || v[1] < 1 || v[0] >= 1<<24 || v[1] >= 1<<24 {
		return 0, 0, 0, 0, fmt.Errorf("pnm: %dx%d image (each side must be 1 to 16777215)", v[0], v[1])
	}
	return v[0], v[1], c, i + 1, nil
}

// pnmPeek reads enough of r for any header (comments included, up to
// 4 KiB).
func pnmPeek(r io.Reader) (*bufio.Reader, []byte) {
	br := bufio.NewReaderSize(r, 4096)
	b, _ := br.Peek(4096)
	return br, b
}

func decodePNMConfig(r io.Reader) (image.Config, error) {
	_, b := pnmPeek(r)
	w, h, c, _, err := pnmHeader(b)
	if err != nil {
		return image.Config{}, err
	}
	cm := color.Model(color.RGBAModel)
	if c == 1 {
		cm = color.GrayModel
	}
	return image.Config{Width: w, Height: h, ColorModel: cm}, nil
}

func decodePNM(r io.Reader) (image.Image, error) {
	br, b := pnmPeek(r)
	w, h, c, n, err := pnmHeader(b)
	if err != nil {
		return nil, err
	}
	if int64(w)*int64(h) > DefaultMaxPixels*4 {
		return nil, fmt.Errorf("pnm: %dx%d image is too large", w, h)
	}
	br.Discard(n)
	pix := make([]uint8, w*h*c)
	if _, err := io.ReadFull(br, pix); err != nil {
		return nil, fmt.Errorf("pnm: pixels: %w", err)
	}
	if c == 1 {
		return &image.Gray{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, h)}, nil
	}
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = pix[3*i], pix[3*i+1], pix[3*i+2], 255
	}
	return m, nil
}

// decodePNMInto is the fast path of decodeInto for a PNM file: the pixels
// are copied (gray replicated to RGB when c is 3). ok is false for a file
// that is not PNM.
func decodePNMInto(dst []uint8, b []byte, want header, c int) (ok bool, err error) {
	if !bytes.HasPrefix(b, []byte("P5")) && !bytes.HasPrefix(b, []byte("P6")) {
		return false, nil
	}
	w, h, fc, n, err := pnmHeader(b)
	if err != nil {
		return true, fmt.Errorf("corrupt image: %v", err)
	}
	if w != want.w || h != want.h {
		return true, fmt.Errorf("image header says %dx%d, it said %dx%d when the dataset was opened", w, h, want.w, want.h)
	}
	pix := b[n:]
	if len(pix) < w*h*fc {
		return true, fmt.Errorf("corrupt or truncated image: pnm: %d pixel bytes, want %d", len(pix), w*h*fc)
	}
	switch {
	case fc == c:
		copy(dst, pix[:w*h*c])
	case fc == 1 && c == 3:
		for i, v := range pix[:w*h] {
			dst[3*i], dst[3*i+1], dst[3*i+2] = v, v, v
		}
	default: // an RGB file in a gray dataset cannot happen: one colour file makes it RGB
		return true, fmt.Errorf("pnm: %d-channel file in a %d-channel dataset", fc, c)
	}
	return true, nil
}
