package serve

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // register GIF
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	_ "golang.org/x/image/webp" // register WebP
)

// httpError is a request that cannot be answered: its status and a message
// for the client.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s", e.code, e.msg) }

func errorf(code int, format string, args ...any) *httpError {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// Limits bounds what one request may ask of the server.
type Limits struct {
	MaxBytes    int64 // largest upload body (413 above)
	MaxPixels   int64 // largest width×height of an uploaded image (413 above)
	MaxK        int   // largest k (400 above)
	MaxSize     int   // largest ?size= of /v1/images (400 above)
	MaxEmbeds   int   // embeddings admitted at once, queued or running (503 above)
	MaxSearches int   // searches admitted at once (503 above)
	MaxBatch    int   // most queued requests run as one batch
}

// DefaultLimits are the limits of `contrastive serve`.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 10 << 20, MaxPixels: 16 << 20, MaxK: 100, MaxSize: 1024, MaxEmbeds: 16, MaxSearches: 64, MaxBatch: 32}
}

// readImage decodes the uploaded image of r: the raw body when its
// Content-Type is image/*, or the multipart form field "image".
func readImage(w http.ResponseWriter, r *http.Request, lim Limits) (image.Image, *httpError) {
	r.Body = http.MaxBytesReader(w, r.Body, lim.MaxBytes)
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, errorf(http.StatusUnsupportedMediaType, "no Content-Type: send the image as the body (Content-Type: image/png, image/jpeg, ...) or as the multipart form field \"image\"")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "Content-Type %q: %v", ct, err)
	}
	switch {
	case strings.HasPrefix(mt, "image/"):
		return decodeImage(r.Body, lim)
	case mt == "multipart/form-data":
		if params["boundary"] == "" {
			return nil, errorf(http.StatusBadRequest, "multipart/form-data without a boundary")
		}
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "multipart body: %v", err)
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, errorf(http.StatusBadRequest, "the multipart form has no field \"image\"")
			}
			if err != nil {
				return nil, bodyError("multipart body", err, lim)
			}
			if part.FormName() == "image" {
				img, herr := decodeImage(part, lim)
				part.Close()
				return img, herr
			}
			part.Close()
		}
	}
	return nil, errorf(http.StatusUnsupportedMediaType, "Content-Type %q: send image/png, image/jpeg, image/gif, image/webp or multipart/form-data with the field \"image\"", mt)
}

// bodyError maps a failure to read the body: over the byte limit is 413.
func bodyError(what string, err error, lim Limits) *httpError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errorf(http.StatusRequestEntityTooLarge, "upload larger than the limit of %d bytes", lim.MaxBytes)
	}
	return errorf(http.StatusBadRequest, "%s: %v", what, err)
}

// decodeImage reads an encoded image, checking its declared size against
// the pixel limit before decoding the pixels.
func decodeImage(r io.Reader, lim Limits) (image.Image, *httpError) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, bodyError("reading the image", err, lim)
	}
	if len(b) == 0 {
		return nil, errorf(http.StatusBadRequest, "empty image")
	}
	return decodeBytes(b, lim.MaxPixels)
}

// decodeBytes decodes an encoded PNG, JPEG, GIF or WebP image of at most
// maxPixels pixels.
func decodeBytes(b []byte, maxPixels int64) (image.Image, *httpError) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "not a readable PNG, JPEG, GIF or WebP image: %v", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return nil, errorf(http.StatusBadRequest, "%s image of %d×%d pixels", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, errorf(http.StatusRequestEntityTooLarge, "%s image of %d×%d = %d pixels, the limit is %d", format, cfg.Width, cfg.Height, px, maxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "decoding the %s image: %v", format, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, errorf(http.StatusBadRequest, "%s image decodes to %v, its header says %d×%d", format, b, cfg.Width, cfg.Height)
	}
	return img, nil
}

// intParam reads the integer query parameter name: def when absent, an
// error unless lo <= value <= hi.
func intParam(q url.Values, name string, def, lo, hi int) (int, *httpError) {
	vals, ok := q[name]
	if !ok {
		return def, nil
	}
	if len(vals) != 1 {
		return 0, errorf(http.StatusBadRequest, "%s given %d times", name, len(vals))
	}
	v, err := strconv.Atoi(vals[0])
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "%s=%q: not an integer", name, vals[0])
	}
	if v < lo || v > hi {
		return 0, errorf(http.StatusBadRequest, "%s=%d: want %d to %d", name, v, lo, hi)
	}
	return v, nil
}

// searchParams are the query parameters of /v1/search.
type searchParams struct {
	k   int
	row int // -1: search by the uploaded image
}

// parseSearch reads k (default 10) and row (absent: an image is uploaded)
// from a search request's query, for an index of n rows.
func parseSearch(rawQuery string, n int, lim Limits) (searchParams, *httpError) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return searchParams{}, errorf(http.StatusBadRequest, "query %q: %v", rawQuery, err)
	}
	for name := range q {
		if name != "k" && name != "row" {
			return searchParams{}, errorf(http.StatusBadRequest, "unknown query parameter %q (want k and row)", name)
		}
	}
	k, herr := intParam(q, "k", min(10, lim.MaxK), 1, lim.MaxK)
	if herr != nil {
		return searchParams{}, herr
	}
	row := -1
	if _, ok := q["row"]; ok {
		if n == 0 {
			return searchParams{}, errorf(http.StatusNotFound, "row given but the index is empty")
		}
		if row, herr = intParam(q, "row", 0, 0, n-1); herr != nil {
			herr.code = http.StatusNotFound
			if _, err := strconv.Atoi(q.Get("row")); err != nil || len(q["row"]) != 1 {
				herr.code = http.StatusBadRequest
			}
			return searchParams{}, herr
		}
	}
	return searchParams{k: k, row: row}, nil
}
