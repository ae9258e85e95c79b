package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// The PNG fast path decodes the files of image datasets (8-bit gray, RGB
// or RGBA, not interlaced: every CIFAR and MNIST PNG) straight into uint8
// HWC, reusing one zlib reader and one row buffer per worker. image/png
// allocates a fresh inflater (about 40 KB) and an image per file, which
// doubled the time to open 60,000 small PNGs. Everything else (palettes,
// 16-bit, interlacing) falls back to image/png. Specification:
// https://www.w3.org/TR/png/ (sections 5 chunks, 7.3 filtering, 9 filters).

var pngSig = []byte("\x89PNG\r\n\x1a\n")

// errPNGFallback means the fast path does not handle the file; the general
// decoder must.
var errPNGFallback = errors.New("png: not handled by the fast path")

// pngDecoder holds the buffers one worker reuses across files. The zero
// value is ready.
type pngDecoder struct {
	zr   io.ReadCloser // zlib reader, reset per file
	idat bytes.Buffer  // concatenated IDAT payloads
	raw  []byte        // inflated, filtered rows (1 filter byte + row)
}

// decode decodes PNG bytes b, whose header said want, into dst (h*w*c
// bytes, c = 1 only for a gray file). It returns errPNGFallback for a
// valid-looking file it does not handle, and an error for a bad file.
func (d *pngDecoder) decode(dst []uint8, b []byte, want header, c int) error {
	if !bytes.HasPrefix(b, pngSig) {
		return errPNGFallback
	}
	b = b[len(pngSig):]
	var w, h, colorType int
	d.idat.Reset()
	seenIHDR := false
	for {
		if len(b) < 12 {
			return fmt.Errorf("corrupt or truncated image: png: file ends before the IEND chunk")
		}
		n := int(binary.BigEndian.Uint32(b))
		if n > len(b)-12 || n < 0 {
			return fmt.Errorf("corrupt or truncated image: png: chunk of %d bytes overruns the file", n)
		}
		typ, data := string(b[4:8]), b[8:8+n]
		if crc32.ChecksumIEEE(b[4:8+n]) != binary.BigEndian.Uint32(b[8+n:]) {
			return fmt.Errorf("corrupt or truncated image: png: invalid checksum in %s chunk", typ)
		}
		b = b[12+n:]
		switch typ {
		case "IHDR":
			if n != 13 {
				return fmt.Errorf("corrupt or truncated image: png: IHDR of %d bytes", n)
			}
			w, h = int(binary.BigEndian.Uint32(data)), int(binary.BigEndian.Uint32(data[4:]))
			depth, interlace := data[8], data[12]
			colorType = int(data[9])
			if depth != 8 || interlace != 0 || (colorType != 0 && colorType != 2 && colorType != 6) {
				return errPNGFallback
			}
			seenIHDR = true
		case "IDAT":
			if !seenIHDR {
				return errPNGFallback // malformed; let image/png say why
			}
			d.idat.Write(data)
		case "IEND":
			if !seenIHDR || w != want.w || h != want.h {
				return errPNGFallback
			}
			return d.pixels(dst, w, h, colorType, c)
		}
	}
}

// pixels inflates the IDAT stream, undoes the row filters and writes the
// rows into dst.
func (d *pngDecoder) pixels(dst []uint8, w, h, colorType, c int) error {
	bpp := map[int]int{0: 1, 2: 3, 6: 4}[colorType]
	if colorType == 0 && c != 1 && c != 3 || colorType != 0 && c != 3 {
		return errPNGFallback
	}
	var err error
	if d.zr == nil {
		d.zr, err = zlib.NewReader(&d.idat)
	} else {
		err = d.zr.(zlib.Resetter).Reset(&d.idat, nil)
	}
	if err != nil {
		return fmt.Errorf("corrupt or truncated image: png: %v", err)
	}
	stride := 1 + w*bpp
	if need := 2 * stride; cap(d.raw) < need {
		d.raw = make([]byte, need)
	}
	cur, prev := d.raw[:stride], d.raw[stride:2*stride]
	clear(prev)
	for y := range h {
		if _, err := io.ReadFull(d.zr, cur); err != nil {
			return fmt.Errorf("corrupt or truncated image: png: pixel data: %v", err)
		}
		row, pr := cur[1:], prev[1:]
		switch cur[0] {
		case 0:
		case 1: // Sub
			for i := bpp; i < len(row); i++ {
				row[i] += row[i-bpp]
			}
		case 2: // Up
			for i, p := range pr {
				row[i] += p
			}
		case 3: // Average
			for i := range bpp {
				row[i] += pr[i] / 2
			}
			for i := bpp; i < len(row); i++ {
				row[i] += uint8((int(row[i-bpp]) + int(pr[i])) / 2)
			}
		case 4: // Paeth
			for i := range bpp {
				row[i] += pr[i] // paeth(0, b, 0) = b
			}
			for i := bpp; i < len(row); i++ {
				row[i] += paeth(row[i-bpp], pr[i], pr[i-bpp])
			}
		default:
			return fmt.Errorf("corrupt or truncated image: png: bad filter type %d", cur[0])
		}
		out := dst[y*w*c : (y+1)*w*c]
		switch {
		case bpp == c:
			copy(out, row)
		case bpp == 1: // gray to RGB
			for x, v := range row {
				out[3*x], out[3*x+1], out[3*x+2] = v, v, v
			}
		default: // RGBA to RGB
			for x := range w {
				out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
		cur, prev = prev, cur
	}
	// The stream must end here: reading on checks the Adler-32 checksum.
	var one [1]byte
	if n, err := d.zr.Read(one[:]); n != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			return fmt.Errorf("corrupt image: png: too much pixel data")
		}
		return fmt.Errorf("corrupt or truncated image: png: pixel data: %v", err)
	}
	return nil
}

// paeth is the Paeth predictor of the PNG specification (section 9.4).
func paeth(a, b, c uint8) uint8 {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := absInt(p-int(a)), absInt(p-int(b)), absInt(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
