package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/fuzzing"
)

// The fuzz targets of the dataset parsers. Their seed corpora live in
// testdata/fuzz/FuzzX/seed-* (written by TestFuzzSeeds with
// CONTRASTIVE_WRITE_SEEDS=1); other files there are the regression cases
// of past findings. Run one with
//
//	go test -run XXX -fuzz FuzzIDX -fuzztime 5m -parallel 1 ./data

// gzipRatio bounds how many bytes one byte of a deflate stream expands to.
const gzipRatio = 1032

// idxDeclared is the size the IDX header at the start of b (gzip-compressed
// or not) declares, or 0 when it declares none.
func idxDeclared(b []byte) int64 {
	head := b
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return 0
		}
		head = make([]byte, 16)
		n, _ := io.ReadFull(zr, head)
		head = head[:n]
	}
	return max(idxSize(head), 0)
}

// expandable bounds the bytes b can hold once decompressed.
func expandable(b []byte) int64 {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		return gzipRatio * int64(len(b))
	}
	return int64(len(b))
}

func FuzzIDX(f *testing.F) {
	f.Fuzz(func(t *testing.T, imgs, lbls []byte) {
		// Pixels (the decompressed file, kept) and labels (int32 each) are
		// bounded by what the headers declare and the bytes can hold.
		bound := 16*uint64(len(imgs)+len(lbls)) +
			4*uint64(min(idxDeclared(imgs), expandable(imgs))) +
			8*uint64(min(idxDeclared(lbls), expandable(lbls)))
		var s *set
		var err error
		fuzzing.Check(t, bound, func() { s, err = parseIDX("fuzz", imgs, "imgs", lbls, "lbls") })
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || (fe.Path != "imgs" && fe.Path != "lbls") {
				t.Fatalf("error %v is not a FormatError naming a file", err)
			}
			return
		}
		if len(s.pix) != s.n*s.h*s.w || len(s.labels) != s.n || s.c != 1 {
			t.Fatalf("%d images of %dx%d with %d pixels and %d labels", s.n, s.h, s.w, len(s.pix), len(s.labels))
		}
		for i := range s.n {
			if l := s.Label(i); l < 0 || l >= s.NumClasses() {
				t.Fatalf("label %d of image %d outside [0, %d)", l, i, s.NumClasses())
			}
		}
	})
}

func FuzzCIFAR(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, hundred bool) {
		name := "test_batch.bin"
		if hundred {
			name = "test.bin"
		}
		src := memSource{dir: "dir", files: map[string]memFile{name: {path: "dir/" + name, data: b}}}
		var s *set
		var err error
		fuzzing.Check(t, 8*uint64(len(b)), func() { s, err = loadCIFAR(src, "fuzz", "test", hundred) })
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Path != "dir/"+name {
				t.Fatalf("error %v is not a FormatError naming the file", err)
			}
			return
		}
		record := 1 + cifarPixels
		if hundred {
			record++
		}
		if s.n != len(b)/record || len(s.pix) != s.n*cifarPixels {
			t.Fatalf("%d bytes gave %d images and %d pixels", len(b), s.n, len(s.pix))
		}
		for i := range s.n {
			if l := s.Label(i); l < 0 || l >= s.NumClasses() {
				t.Fatalf("label %d of image %d outside [0, %d)", l, i, s.NumClasses())
			}
		}
	})
}

// FuzzArchive opens an archive (tar, or tar.gz by its magic number) with a
// 64 KiB memory budget, so that large sets take the unpack-and-stream
// path, and reads its first images.
func FuzzArchive(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, test, skipBad bool) {
		p := filepath.Join(dir, "fuzz.tar")
		cache := filepath.Join(dir, "cache")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(cache)
		split := "train"
		if test {
			split = "test"
		}
		const budget = 1 << 16
		opt := OpenOptions{MaxMemory: budget, CacheDir: cache, SkipBad: skipBad, Warn: io.Discard}
		var ds Dataset
		var err error
		// Members are held whole (up to what the stream can expand to, and
		// a gzip IDX member inside to what it can); decoded pixels stay
		// within the budget.
		fuzzing.Check(t, 8*gzipRatio*uint64(len(b))+8*budget, func() { ds, err = Open(p+":"+split, opt) })
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the archive", err)
			}
		} else {
			rd := ds.(RawDataset)
			for i := range min(ds.Len(), 4) {
				h, w, c := ds.Shape()
				if h*w*c > 1<<22 { // a streamed image is decoded at the size its header declares
					break
				}
				r, err := rd.Raw(i)
				if err != nil {
					if !strings.Contains(err.Error(), cache) {
						t.Fatalf("error %q does not name the unpacked file", err)
					}
					continue
				}
				if len(r.Pix) != r.H*r.W*r.C || (h != 0 && (r.H != h || r.W != w)) || r.C != c {
					t.Fatalf("image %d: %dx%dx%d with %d bytes, set shape %dx%dx%d", i, r.H, r.W, r.C, len(r.Pix), h, w, c)
				}
				if l := ds.Label(i); l < -1 || l >= ds.NumClasses() {
					t.Fatalf("label %d of image %d outside [-1, %d)", l, i, ds.NumClasses())
				}
			}
		}
		// No temporary unpack folder is left behind, whatever happened.
		if ents, _ := os.ReadDir(cache); len(ents) > 0 {
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".unpack-") {
					t.Fatalf("temporary folder %s left in the cache", e.Name())
				}
			}
		}
	})
}

// FuzzDecodeImage decodes an image file held in memory as the folder and
// archive readers do. Where the PNG fast path decodes a file, image/png
// must decode it to the same pixels; where image/png does, the fast path
// must not call it corrupt.
func FuzzDecodeImage(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, rgb bool) {
		hdr, err := headerOf(b, 1<<20)
		if err != nil || hdr.h*hdr.w > 1<<20 {
			return // the header bounds what decoding allocates; keep runs fast
		}
		c := 3
		if hdr.gray && !rgb {
			c = 1
		}
		dst := make([]uint8, hdr.h*hdr.w*c)
		fuzzing.Check(t, 16*uint64(hdr.h*hdr.w)+32*uint64(len(b)), func() { err = decodeInto(dst, b, hdr, c) })
		var fast pngDecoder
		fastDst := make([]uint8, len(dst))
		fastErr := fast.decode(fastDst, b, hdr, c)
		img, stdErr := decodeBytes(b, hdr)
		switch {
		case fastErr == nil && stdErr != nil:
			t.Fatalf("fast path decoded a PNG that image/png refuses: %v", stdErr)
		case fastErr == nil:
			want := make([]uint8, len(dst))
			toU8(want, img, c)
			if !bytes.Equal(fastDst, want) {
				t.Fatalf("fast path and image/png decode to different pixels")
			}
		case fastErr != errPNGFallback && stdErr == nil:
			t.Fatalf("fast path says %v; image/png decodes the file", fastErr)
		}
		if err == nil && fastErr == nil && !bytes.Equal(dst, fastDst) {
			t.Fatalf("decodeInto differs from the fast path")
		}
	})
}

// truncatedTar is a tar stream whose one member claims size bytes but
// holds only data.
func truncatedTar(t *testing.T, name string, size int64, data []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write(data)
	tw.Flush() // fails: the member is short; the bytes so far are what we want
	return buf.Bytes()
}

// TestFuzzSeeds checks (or, with CONTRASTIVE_WRITE_SEEDS=1, writes) the
// seed corpora of the fuzz targets above.
func TestFuzzSeeds(t *testing.T) {
	imgs := idxImages(3, 4, 5, testPix)
	lbls := idxLabels([]uint8{0, 7, 2})
	fuzzing.SyncCorpus(t, "FuzzIDX", []fuzzing.Seed{
		{Name: "plain", Args: []any{imgs, lbls}},
		{Name: "gzip", Args: []any{gz(t, imgs), gz(t, lbls)}},
		{Name: "mixed", Args: []any{gz(t, imgs), lbls}},
		{Name: "empty", Args: []any{idxImages(0, 1, 1, testPix), idxLabels(nil)}},
		{Name: "truncated", Args: []any{imgs[:len(imgs)-3], lbls}},
		{Name: "count-mismatch", Args: []any{imgs, idxLabels([]uint8{1, 2})}},
		// Found in review: a gzip stream was decompressed whole, whatever
		// its header declared (here one 1×1 image, then 4 MiB of zeros).
		{Name: "regress-gzip-longer-than-header", Args: []any{gz(t, append(idxImages(1, 1, 1, testPix), make([]byte, 4<<20)...)), lbls[:9]}},
	})

	c10 := cifarRecords(2, func(i int) []uint8 { return []uint8{uint8(3 * i)} })
	c100 := cifarRecords(2, func(i int) []uint8 { return []uint8{uint8(i), uint8(50 + i)} })
	fuzzing.SyncCorpus(t, "FuzzCIFAR", []fuzzing.Seed{
		{Name: "cifar10", Args: []any{c10, false}},
		{Name: "cifar100", Args: []any{c100, true}},
		{Name: "bad-label", Args: []any{cifarRecords(1, func(int) []uint8 { return []uint8{10} }), false}},
		{Name: "partial-record", Args: []any{c10[:100], false}},
	})

	tarOf := func(ms []member, zip bool) []byte {
		p := filepath.Join(t.TempDir(), "a.tar")
		if zip {
			p += ".gz"
		}
		writeTar(t, p, ms)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	folder := folderMembers(t)
	var big []member // 10 images of 64x64: above the fuzz target's 64 KiB budget
	for i := range 10 {
		big = append(big, member{fmt.Sprintf("big/train/%s/%d.png", []string{"a", "b"}[i%2], i), encode(t, rgbImage(64, 64, i), ".png")})
	}
	mixed := []member{{"m/x/a.png", encode(t, rgbImage(5, 4, 1), ".png")}, {"m/x/b.jpg", encode(t, rgbImage(6, 4, 2), ".jpg")},
		{"m/y/c.gif", encode(t, paletted(rgbImage(5, 4, 3)), ".gif")}, {"m/y/bad.png", []byte("\x89PNG\r\n\x1a\nnot really")}}
	idx := []member{{"mnist/train-images-idx3-ubyte.gz", gz(t, imgs)}, {"mnist/train-labels-idx1-ubyte", lbls},
		{"mnist/t10k-images-idx3-ubyte", imgs}, {"mnist/t10k-labels-idx1-ubyte.gz", gz(t, lbls)}}
	cifar := []member{{"cifar-10-batches-bin/", nil}, {"cifar-10-batches-bin/data_batch_1.bin", c10},
		{"cifar-10-batches-bin/test_batch.bin", c10[:1+cifarPixels]}, {"cifar-10-batches-bin/batches.meta.txt", []byte(strings.Join(cifar10Names, "\n"))}}
	fuzzing.SyncCorpus(t, "FuzzArchive", []fuzzing.Seed{
		{Name: "folder-tar", Args: []any{tarOf(folder, false), false, false}},
		{Name: "folder-tgz", Args: []any{tarOf(folder, true), true, false}},
		{Name: "folder-unpacked", Args: []any{tarOf(big, true), false, false}},
		{Name: "mixed-skip", Args: []any{tarOf(mixed, false), false, true}},
		{Name: "idx", Args: []any{tarOf(idx, false), false, false}},
		{Name: "idx-test", Args: []any{tarOf(idx, true), true, false}},
		{Name: "cifar", Args: []any{tarOf(cifar, true), false, false}},
		{Name: "escape", Args: []any{tarOf([]member{{"../up/a.png", encode(t, rgbImage(3, 3, 0), ".png")}}, false), false, false}},
		// Found in review: a member was read into a buffer of the size its
		// header claims (here 1 GiB) before the bytes were there.
		{Name: "regress-member-claims-1GiB", Args: []any{truncatedTar(t, "m/train-images-idx3-ubyte", 1<<30, imgs), false, false}},
	})

	gray := image.NewGray(image.Rect(0, 0, 5, 3))
	gray16 := image.NewGray16(image.Rect(0, 0, 3, 2))
	nrgba := image.NewNRGBA(image.Rect(0, 0, 4, 3))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 17)
	}
	for i := range gray16.Pix {
		gray16.Pix[i] = uint8(i * 29)
	}
	for i := range nrgba.Pix {
		nrgba.Pix[i] = uint8(i * 13)
	}
	var trns bytes.Buffer // a gray PNG with a transparent colour (tRNS)
	if err := (&png.Encoder{}).Encode(&trns, &image.Paletted{Pix: []uint8{0, 1, 1, 0}, Stride: 2, Rect: image.Rect(0, 0, 2, 2),
		Palette: color.Palette{color.NRGBA{10, 10, 10, 0}, color.NRGBA{200, 200, 200, 255}}}); err != nil {
		t.Fatal(err)
	}
	rgbPNG := encode(t, rgbImage(6, 5, 9), ".png")
	fuzzing.SyncCorpus(t, "FuzzDecodeImage", []fuzzing.Seed{
		{Name: "png-rgb", Args: []any{rgbPNG, true}},
		{Name: "png-gray", Args: []any{encode(t, gray, ".png"), false}},
		{Name: "png-gray-as-rgb", Args: []any{encode(t, gray, ".png"), true}},
		{Name: "png-gray16", Args: []any{encode(t, gray16, ".png"), false}},
		{Name: "png-nrgba", Args: []any{encode(t, nrgba, ".png"), true}},
		{Name: "png-paletted-alpha", Args: []any{trns.Bytes(), true}},
		{Name: "png-bad-crc", Args: []any{flipByte(rgbPNG, len(rgbPNG)-20), true}},
		{Name: "jpeg", Args: []any{encode(t, rgbImage(8, 8, 4), ".jpg"), true}},
		{Name: "jpeg-gray", Args: []any{encode(t, gray, ".jpg"), false}},
		{Name: "gif", Args: []any{encode(t, paletted(rgbImage(4, 4, 2)), ".gif"), true}},
	})
}
