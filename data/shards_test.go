package data

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestShardsRoundTrip writes a mixed-size labelled folder as raw shards
// (lossless) and as JPEG shards, reopens them in memory and streamed, and
// checks pixels, sizes, labels, the WebDataset members and the short-side
// resize.
func TestShardsRoundTrip(t *testing.T) {
	src := t.TempDir()
	for i := range 7 {
		writeFile(t, src, "train/"+[]string{"ant", "bee"}[i%2]+"/"+string(rune('a'+i))+".png", encode(t, rgbImage(5+i, 9-i, i), ".png"))
	}
	writeFile(t, src, "val/bee/z.png", encode(t, rgbImage(4, 4, 9), ".png"))
	ds, err := Open(src, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var calls []int
	if err := WriteShards(ds, filepath.Join(out, "train"), ShardOptions{Format: "raw", PerShard: 3, Progress: func(d, n int) { calls = append(calls, d) }}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []int{7}) {
		t.Errorf("progress calls %v, want [7]", calls)
	}
	val, _ := Open(src+":val", OpenOptions{})
	if err := WriteShards(val, filepath.Join(out, "val"), ShardOptions{Format: "raw"}); err != nil {
		t.Fatal(err)
	}
	shards, _ := filepath.Glob(filepath.Join(out, "train", "shard-*.tar"))
	if len(shards) != 3 {
		t.Fatalf("%d shards for 7 images at 3 a shard, want 3", len(shards))
	}
	// WebDataset layout: <key>.ppm then <key>.cls in each tar.
	f, _ := os.Open(shards[0])
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, h.Name)
		if strings.HasSuffix(h.Name, ".cls") {
			b, _ := io.ReadAll(tr)
			names = append(names, string(b))
		}
	}
	f.Close()
	if strings.Join(names, " ") != "00000000.ppm 00000000.cls 0 00000001.ppm 00000001.cls 0 00000002.ppm 00000002.cls 0" {
		t.Errorf("shard 0 members %v", names)
	}
	for _, budget := range []int64{0, 1} {
		back, err := Open(out, OpenOptions{MaxMemory: budget})
		if err != nil {
			t.Fatal(err)
		}
		if back.Len() != 7 || strings.Join(back.ClassNames(), ",") != "ant,bee" || (back.(*set).stream != nil) != (budget == 1) {
			t.Fatalf("budget %d: %d images, classes %v", budget, back.Len(), back.ClassNames())
		}
		for i := range 7 {
			a, _ := ds.(RawDataset).Raw(i)
			b, err := back.(RawDataset).Raw(i)
			if err != nil || a.H != b.H || a.W != b.W || !bytes.Equal(a.Pix, b.Pix) || back.Label(i) != ds.Label(i) {
				t.Fatalf("budget %d image %d: %dx%d label %d (%v), want %dx%d label %d, same pixels", budget, i, b.W, b.H, back.Label(i), err, a.W, a.H, ds.Label(i))
			}
		}
		v, err := Open(out+":validation", OpenOptions{MaxMemory: budget})
		if err != nil || v.Len() != 1 || v.Label(0) != 1 || v.NumClasses() != 2 {
			t.Fatalf("val shards: %v", err)
		}
	}
	// JPEG shards with a short side of 4: an image of 7x6 becomes 4 high.
	jp := filepath.Join(out, "jpeg")
	if err := WriteShards(ds, jp, ShardOptions{Format: "jpeg", ShortSide: 4}); err != nil {
		t.Fatal(err)
	}
	back, err := Open(jp, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		a, _ := ds.(RawDataset).Raw(i)
		b, _ := back.(RawDataset).Raw(i)
		if want := min(a.H, a.W); min(b.H, b.W) != min(want, 4) {
			t.Errorf("image %d: %dx%d resized to %dx%d, want a shorter side of %d", i, a.W, a.H, b.W, b.H, min(want, 4))
		}
	}
	// A damaged index is refused by name.
	idx := filepath.Join(out, "train", ShardIndexFile)
	b, _ := os.ReadFile(idx)
	os.WriteFile(idx, bytes.Replace(b, []byte(`"samples":[[0,`), []byte(`"samples":[[7,`), 1), 0o644)
	if _, err := Open(out, OpenOptions{}); err == nil || !strings.Contains(err.Error(), "index.json") || !strings.Contains(err.Error(), "sample 0") {
		t.Errorf("damaged index: %v", err)
	}
}

// FuzzShardIndex: parseShardIndex never panics and whatever it accepts
// points inside its shards.
func FuzzShardIndex(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "shardindex", "*.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := parseShardIndex("fuzz.json", b, func(string) (int64, error) { return 1 << 20, nil }, 0)
		if err != nil {
			return
		}
		for i, s := range idx.Samples {
			if s[0] < 0 || int(s[0]) >= len(idx.Shards) || s[1] < 0 || s[1]+s[2] > 1<<20 || s[3]*s[4] > DefaultMaxPixels || s[5] >= int64(len(idx.Classes)) {
				t.Fatalf("sample %d %v accepted", i, s)
			}
		}
	})
}

// FuzzPNM: the PNM header parser and decoder never panic, and a decoded
// image has the header's size.
func FuzzPNM(f *testing.F) {
	f.Add([]byte("P6\n2 1\n255\n\x01\x02\x03\x04\x05\x06"))
	f.Add([]byte("P5 # comment\n3 2 255 abcdef"))
	f.Add([]byte("P6\n99999999999 1\n255\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, h, c, n, err := pnmHeader(b)
		if err != nil {
			return
		}
		if w < 1 || h < 1 || (c != 1 && c != 3) || n > len(b) {
			t.Fatalf("header %dx%dx%d, %d bytes of %d", w, h, c, n, len(b))
		}
		if int64(w)*int64(h) > 1<<20 {
			return
		}
		dst := make([]uint8, w*h*3)
		if ok, err := decodePNMInto(dst, b, header{h: h, w: w}, 3); !ok || (err == nil && len(b)-n < w*h*c) {
			t.Fatalf("decodePNMInto: ok %v, err %v on %d pixel bytes", ok, err, len(b)-n)
		}
	})
}
