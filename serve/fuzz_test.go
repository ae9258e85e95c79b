package serve

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzRequest feeds arbitrary bodies, Content-Types and query strings to
// the request parser (raw and multipart image bodies, k and row): it must
// never panic, must answer either an image within the limits or a 4xx
// error, and must return parameters within their ranges.
func FuzzRequest(f *testing.F) {
	img := colourImage(1, 4, 9, 7)
	pngB := encodePNG(f, img)
	jpgB := encodeJPEG(f, img)
	var gifBuf bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 5, 3), palette.Plan9)
	pal.Set(1, 1, color.White)
	gif.Encode(&gifBuf, pal, nil)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.SetBoundary("BOUNDARY")
	mw.WriteField("k", "3")
	fw, _ := mw.CreateFormFile("image", "x.png")
	fw.Write(pngB)
	mw.Close()
	for _, seed := range []struct {
		body         []byte
		ct, rawQuery string
	}{
		{pngB, "image/png", "k=3"},
		{jpgB, "image/jpeg", "row=2&k=5"},
		{gifBuf.Bytes(), "image/gif", ""},
		{mp.Bytes(), "multipart/form-data; boundary=BOUNDARY", "k=10"},
		{mp.Bytes()[:len(mp.Bytes())/2], "multipart/form-data; boundary=BOUNDARY", "k=1&k=2"},
		{pngB[:40], "image/png", "row=-1"},
		{[]byte("GIF89a\x00\x10\x00\x10"), "image/webp", "k=%zz"},
		{[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "image/webp", "row=9&k=100"},
		{nil, "text/plain", "q=1"},
		{pngB, "image/png; charset=\"", "row=1e3"},
	} {
		f.Add(seed.body, seed.ct, seed.rawQuery)
	}
	lim := Limits{MaxBytes: 1 << 16, MaxPixels: 1 << 14, MaxK: 50}
	f.Fuzz(func(t *testing.T, body []byte, ct, rawQuery string) {
		req := &http.Request{Method: "POST", URL: &url.URL{Path: "/v1/search", RawQuery: rawQuery},
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		img, herr := readImage(httptest.NewRecorder(), req, lim)
		switch {
		case (img == nil) == (herr == nil):
			t.Fatalf("image %v and error %v", img != nil, herr)
		case herr != nil && herr.code != 400 && herr.code != 413 && herr.code != 415:
			t.Fatalf("status %d (%s)", herr.code, herr.msg)
		case img != nil:
			b := img.Bounds()
			if b.Dx() < 1 || b.Dy() < 1 || int64(b.Dx())*int64(b.Dy()) > lim.MaxPixels {
				t.Fatalf("decoded %v past the limits", b)
			}
			for _, c := range []int{1, 3} {
				if x := ToImage(img, c); len(x.Pix) != b.Dx()*b.Dy()*c {
					t.Fatalf("ToImage(%d channels): %d values for %v", c, len(x.Pix), b)
				}
			}
		}
		p, herr := parseSearch(rawQuery, 10, lim)
		if herr != nil {
			if herr.code != 400 && herr.code != 404 {
				t.Fatalf("query %q: status %d", rawQuery, herr.code)
			}
		} else if p.k < 1 || p.k > lim.MaxK || p.row < -1 || p.row >= 10 {
			t.Fatalf("query %q: k %d row %d out of range", rawQuery, p.k, p.row)
		}
	})
}
