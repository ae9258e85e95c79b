package data

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"
)

// pngChunk appends one PNG chunk.
func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// encodeFiltered writes an 8-bit PNG of colour type 0, 2 or 6 whose row y
// uses filter filters[y%len(filters)], with the pixel data split over two
// IDAT chunks: a straight port of the encoder side of the PNG spec, so
// that every filter of the fast path gets exercised.
func encodeFiltered(w, h, colorType int, pix []byte, filters []byte) []byte {
	bpp := map[int]int{0: 1, 2: 3, 6: 4}[colorType]
	stride := w * bpp
	var raw []byte
	prev := make([]byte, stride)
	for y := range h {
		row := pix[y*stride : (y+1)*stride]
		f := filters[y%len(filters)]
		raw = append(raw, f)
		for i := range row {
			var a, c int
			if i >= bpp {
				a, c = int(row[i-bpp]), int(prev[i-bpp])
			}
			b := int(prev[i])
			pred := 0
			switch f {
			case 1:
				pred = a
			case 2:
				pred = b
			case 3:
				pred = (a + b) / 2
			case 4:
				p := a + b - c
				pa, pb, pc := absInt(p-a), absInt(p-b), absInt(p-c)
				switch {
				case pa <= pb && pa <= pc:
					pred = a
				case pb <= pc:
					pred = b
				default:
					pred = c
				}
			}
			raw = append(raw, row[i]-uint8(pred))
		}
		prev = row
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 8, byte(colorType), 0, 0, 0)
	out := pngChunk(append([]byte(nil), pngSig...), "IHDR", ihdr)
	zb := z.Bytes()
	out = pngChunk(out, "IDAT", zb[:len(zb)/2])
	out = pngChunk(out, "IDAT", zb[len(zb)/2:])
	return pngChunk(out, "IEND", nil)
}

// TestPNGFastPath checks the fast decoder against image/png on every
// filter and colour type it handles, and the fallback on the types it
// does not.
func TestPNGFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, colorType := range []int{0, 2, 6} {
		for _, filters := range [][]byte{{0}, {1}, {2}, {3}, {4}, {4, 3, 2, 1, 0}} {
			w, h := 7, 6
			bpp := map[int]int{0: 1, 2: 3, 6: 4}[colorType]
			pix := make([]byte, w*h*bpp)
			for i := range pix {
				pix[i] = uint8(rng.IntN(256))
			}
			file := encodeFiltered(w, h, colorType, pix, filters)
			ref, err := png.Decode(bytes.NewReader(file))
			if err != nil {
				t.Fatalf("type %d filters %v: image/png rejects the test file: %v", colorType, filters, err)
			}
			hdr, err := readHeader(bytes.NewReader(file), 0)
			if err != nil {
				t.Fatal(err)
			}
			if fast, err := headerOf(file, 0); err != nil || fast != hdr {
				t.Errorf("type %d: IHDR header %+v (%v), image.DecodeConfig %+v", colorType, fast, err, hdr)
			}
			c := 3
			if hdr.gray {
				c = 1
			}
			want := make([]uint8, w*h*c)
			toU8(want, ref, c)
			var d pngDecoder
			got := make([]uint8, w*h*c)
			if err := d.decode(got, file, hdr, c); err != nil {
				t.Fatalf("type %d filters %v: %v", colorType, filters, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("type %d filters %v: fast path differs from image/png", colorType, filters)
			}
			if colorType == 0 { // gray expanded to RGB
				got3 := make([]uint8, w*h*3)
				if err := decodeInto(got3, file, hdr, 3); err != nil || got3[3*5] != pix[5] || got3[3*5+2] != pix[5] {
					t.Errorf("gray to RGB: %v, pixel 5 = %v, want %d", err, got3[15:18], pix[5])
				}
			}
			// Damage: truncation and a flipped byte in the pixel data.
			if err := d.decode(got, file[:len(file)-15], hdr, c); err == nil || err == errPNGFallback {
				t.Errorf("type %d: truncated file: %v", colorType, err)
			}
			if err := d.decode(got, flipByte(file, 40), hdr, c); err == nil || err == errPNGFallback {
				t.Errorf("type %d: damaged file: %v", colorType, err)
			}
		}
	}
	// Files the fast path declines still decode, through image/png.
	img16 := image.NewRGBA64(image.Rect(0, 0, 3, 2))
	for i := range img16.Pix {
		img16.Pix[i] = uint8(i * 11)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{200, 100, 50, 255}})
	pal.Pix = []uint8{0, 1, 1, 0, 1, 0}
	for _, img := range []image.Image{img16, pal} {
		var buf bytes.Buffer
		png.Encode(&buf, img)
		hdr, _ := readHeader(bytes.NewReader(buf.Bytes()), 0)
		if fast, err := headerOf(buf.Bytes(), 0); err != nil || fast != hdr {
			t.Errorf("%T: IHDR header %+v (%v), image.DecodeConfig %+v", img, fast, err, hdr)
		}
		var d pngDecoder
		if err := d.decode(make([]uint8, 18), buf.Bytes(), hdr, 3); err != errPNGFallback {
			t.Errorf("%T: fast path says %v, want a fallback", img, err)
		}
		got := make([]uint8, 18)
		if err := decodeInto(got, buf.Bytes(), hdr, 3); err != nil || !bytes.Equal(got, rawPixels(img)) {
			t.Errorf("%T: %v, pixels %v, want %v", img, err, got, rawPixels(img))
		}
	}
}
