package video_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/contrastive-ssl/contrastive/tensor"
	"github.com/contrastive-ssl/contrastive/video"
)

func needFFmpeg(t *testing.T) {
	t.Helper()
	if !video.HaveFFmpeg() {
		t.Skip("ffmpeg not installed (apt-get install ffmpeg): skipping the video decoding tests")
	}
}

// ramp returns n frames of w×h where pixel (x, y) of frame k is
// (8k+x, 4y, 255−8k): every frame and column distinct.
func ramp(n, w, h int) *video.Frames {
	f := &video.Frames{N: n, H: h, W: w, Pix: make([]uint8, n*h*w*3)}
	for k := 0; k < n; k++ {
		p := f.Frame(k)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				o := (y*w + x) * 3
				p[o], p[o+1], p[o+2] = uint8(8*k+x), uint8(4*y), uint8(255-8*k)
			}
		}
	}
	return f
}

// TestDecodeExact encodes known frames losslessly and checks ffmpeg's
// decode returns them unchanged, frame count included.
func TestDecodeExact(t *testing.T) {
	needFFmpeg(t)
	want := ramp(7, 16, 12)
	p := filepath.Join(t.TempDir(), "r.avi")
	if err := video.Encode(p, want, 10); err != nil {
		t.Fatal(err)
	}
	got, err := video.DecodeFile(p, 16, 12, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != 7 || !bytes.Equal(got.Pix, want.Pix) {
		t.Fatalf("decoded %d frames (want 7); pixels equal: %v", got.N, bytes.Equal(got.Pix, want.Pix))
	}
	if got, err := video.DecodeFile(p, 16, 12, 3); err != nil || got.N != 3 {
		t.Errorf("MaxFrames 3: %v frames, err %v", got, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.mp4")
	os.WriteFile(bad, []byte("not a video"), 0o644)
	if _, err := video.DecodeFile(bad, 16, 12, 0); err == nil || !strings.Contains(err.Error(), "bad.mp4") {
		t.Errorf("corrupt file: error %v, want one naming bad.mp4", err)
	}
}

func TestMissingFFmpeg(t *testing.T) {
	old := video.FFmpeg
	video.FFmpeg = "ffmpeg-not-installed-here"
	defer func() { video.FFmpeg = old }()
	_, err := video.DecodeFile("x.mp4", 8, 8, 0)
	if !errors.Is(err, video.ErrNoFFmpeg) || !strings.Contains(err.Error(), "apt-get install ffmpeg") {
		t.Errorf("error %v, want ErrNoFFmpeg saying apt-get install ffmpeg", err)
	}
}

var (
	treeOnce sync.Once
	treeRoot string
	treeErr  error
	trainDS  *video.Dataset // the tree's train split at 16×12
)

// makeTree writes ROOT/{train,val}/{a,b} once per test binary (ffmpeg is
// slow to start on a loaded machine): class a holds .avi files (in train
// one .avi and one .mkv), class b frame folders of PNGs; it returns the
// root.
func makeTree(t *testing.T) string {
	t.Helper()
	treeOnce.Do(func() {
		if treeRoot, treeErr = writeTree(); treeErr == nil {
			trainDS, treeErr = video.Open(treeRoot, video.Options{Width: 16, Height: 12})
		}
	})
	if treeErr != nil {
		t.Fatal(treeErr)
	}
	return treeRoot
}

func writeTree() (string, error) {
	tmp, err := os.MkdirTemp("", "video-test-")
	if err != nil {
		return "", err
	}
	root := filepath.Join(tmp, "clips")
	for si, split := range []string{"train", "val"} {
		for v := 0; v < 2; v++ {
			d := filepath.Join(root, split, "a")
			os.MkdirAll(d, 0o755)
			ext := [2]string{".avi", ".mkv"}[v]
			if err := video.Encode(filepath.Join(d, "v"+string(rune('0'+v))+ext), ramp(6+v+si, 16, 12), 10); err != nil {
				return "", err
			}
			fd := filepath.Join(root, split, "b", "f"+string(rune('0'+v)))
			os.MkdirAll(fd, 0o755)
			for k := 0; k < 5; k++ {
				img := image.NewRGBA(image.Rect(0, 0, 16, 12))
				for i := range img.Pix {
					img.Pix[i] = uint8(20*k + v)
				}
				img.Set(0, 0, color.RGBA{255, 0, 0, 255})
				var buf bytes.Buffer
				png.Encode(&buf, img)
				os.WriteFile(filepath.Join(fd, "img_0"+string(rune('0'+k))+".png"), buf.Bytes(), 0o644)
			}
		}
	}
	return root, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if treeRoot != "" {
		os.RemoveAll(filepath.Dir(treeRoot))
	}
	os.Exit(code)
}

// tgz archives dir under a top-level folder named after it.
func tgz(t *testing.T, dir, out string) string {
	t.Helper()
	f, _ := os.Create(out)
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	base := filepath.Dir(dir)
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		b, _ := os.ReadFile(p)
		tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
		return nil
	})
	tw.Close()
	gz.Close()
	f.Close()
	return out
}

func TestOpenFolderAndArchive(t *testing.T) {
	needFFmpeg(t)
	root := makeTree(t)
	arch := tgz(t, root, filepath.Join(t.TempDir(), "clips.tgz"))
	opt := video.Options{Width: 16, Height: 12}
	for _, split := range []string{"", ":val"} {
		d1 := trainDS
		if split != "" {
			var err error
			if d1, err = video.Open(root+split, opt); err != nil {
				t.Fatal(err)
			}
		}
		d2, err := video.Open(arch+split, opt)
		if err != nil {
			t.Fatal(err)
		}
		if d1.Len() != 4 || d2.Len() != 4 || strings.Join(d1.Classes, ",") != "a,b" || strings.Join(d2.Classes, ",") != "a,b" {
			t.Fatalf("split %q: %d and %d videos, classes %v %v; want 4 each, [a b]", split, d1.Len(), d2.Len(), d1.Classes, d2.Classes)
		}
		for i := 0; i < 4; i++ {
			f1, err1 := d1.Frames(i)
			f2, err2 := d2.Frames(i)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if d1.Labels[i] != d2.Labels[i] || d1.Names[i] != d2.Names[i] || !bytes.Equal(f1.Pix, f2.Pix) {
				t.Errorf("split %q video %d: folder %s (label %d) and archive %s (label %d) differ", split, i, d1.Names[i], d1.Labels[i], d2.Names[i], d2.Labels[i])
			}
		}
	}
	d := trainDS
	if d.NumFrames[0] != 6 || d.NumFrames[1] != 7 || d.NumFrames[2] != 5 || d.Labels[2] != 1 {
		t.Errorf("frames %v labels %v, want [6 7 5 5], [0 0 1 1]", d.NumFrames, d.Labels)
	}
	f, _ := d.Frames(2) // frame folder b/f0: frame k is grey 20k with a red corner
	if p := f.Frame(3); p[0] != 255 || p[1] != 0 || p[3*5] != 60 {
		t.Errorf("frame folder pixels %v, want the red corner then grey 60", p[:18])
	}
	if _, err := video.Open(root+":test", opt); err == nil || !strings.Contains(err.Error(), "test") {
		t.Errorf("missing split: error %v", err)
	}
}

// TestCacheBudget keeps at most the budget of decoded frames and decodes
// evicted videos again, identically.
func TestCacheBudget(t *testing.T) {
	needFFmpeg(t)
	root := makeTree(t)
	full := trainDS
	budget := 16 * 12 * 3 * 8 // one video's frames
	d, err := video.Open(root, video.Options{Width: 16, Height: 12, CacheBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		for i := 0; i < d.Len(); i++ {
			f, err := d.Frames(i)
			g, _ := full.Frames(i)
			if err != nil || !bytes.Equal(f.Pix, g.Pix) {
				t.Fatalf("video %d under a small cache: %v, equal %v", i, err, err == nil && bytes.Equal(f.Pix, g.Pix))
			}
			if c := d.CachedBytes(); c > budget {
				t.Fatalf("cache holds %d bytes, budget %d", c, budget)
			}
		}
	}
}

func TestLoader(t *testing.T) {
	needFFmpeg(t)
	makeTree(t)
	d := trainDS
	spec := video.ClipSpec{Frames: 3, Stride: 2, Size: 8}
	mk := func(v video.Views, a video.Augment) *video.Loader {
		l, err := video.NewLoader(d, video.LoaderConfig{Batch: 2, Seed: 7, Spec: spec, Views: v, Augment: a})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := mk(video.Temporal, video.SSLAugment)
	if l.StepsPerEpoch() != 2 {
		t.Fatalf("steps per epoch %d, want 2", l.StepsPerEpoch())
	}
	// exact resume: a fresh loader at step 3 gives the same batch.
	b1, _ := l.Batch(3)
	b2, err := mk(video.Temporal, video.SSLAugment).Batch(3)
	if err != nil {
		t.Fatal(err)
	}
	if tensor.MaxAbsDiff(b1.Views[0], b2.Views[0]) != 0 || tensor.MaxAbsDiff(b1.Views[1], b2.Views[1]) != 0 || b1.Epoch != 1 {
		t.Error("Batch(3) differs between two loaders with the same seed (or epoch != 1)")
	}
	if tensor.MaxAbsDiff(b1.Views[0], b1.Views[1]) == 0 {
		t.Error("the two temporal views are identical")
	}
	// an epoch visits every video once.
	seen := map[int]int{}
	for s := 2; s < 4; s++ {
		b, _ := l.Batch(s)
		for _, i := range b.Indices {
			seen[i]++
		}
	}
	if len(seen) != 4 {
		t.Errorf("epoch 1 visits %v, want each of 4 videos once", seen)
	}
	if got := b1.Views[0].Shape(); !tensor.EqualShape(got, []int{2, 3, 8, 8, 3}) {
		t.Errorf("view shape %v, want [2 3 8 8 3]", got)
	}
	// MotionOnly is Motion's second view, drawn the same way.
	bm, err1 := mk(video.Motion, video.TrainAugment).Batch(3)
	bo, err2 := mk(video.MotionOnly, video.TrainAugment).Batch(3)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if len(bo.Views) != 1 || tensor.MaxAbsDiff(bo.Views[0], bm.Views[1]) != 0 {
		t.Errorf("MotionOnly: %d views, want 1 equal to Motion's second", len(bo.Views))
	}
	// motion view of the evaluation clips of frame folder b/f0, whose
	// frames step by 20 grey levels: (20/255)·16 away from the corner.
	m, err := video.EvalClips(d, []int{2}, 1, video.ClipSpec{Frames: 2, Stride: 1, Size: 8}, true)
	if err != nil {
		t.Fatal(err)
	}
	if v := m.Data[len(m.Data)/2]; v < 1.2 || v > 1.3 {
		t.Errorf("motion value %v, want 20/255·16 = 1.25", v)
	}
}

// TestSameAugmentAcrossFrames: a video of identical frames gives a clip
// of identical frames, whatever the (per-clip) augmentation drew.
func TestSameAugmentAcrossFrames(t *testing.T) {
	needFFmpeg(t)
	dir := filepath.Join(t.TempDir(), "s")
	f := ramp(1, 24, 18)
	still := &video.Frames{N: 6, H: 18, W: 24, Pix: bytes.Repeat(f.Pix, 6)}
	os.MkdirAll(filepath.Join(dir, "train", "x"), 0o755)
	if err := video.Encode(filepath.Join(dir, "train", "x", "s.avi"), still, 10); err != nil {
		t.Fatal(err)
	}
	d, err := video.Open(dir, video.Options{Width: 24, Height: 18})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := video.NewLoader(d, video.LoaderConfig{Batch: 1, Seed: 1, Spec: video.ClipSpec{Frames: 4, Stride: 1, Size: 10}, Views: video.Temporal, Augment: video.SSLAugment})
	for s := 0; s < 5; s++ {
		b, _ := l.Batch(s)
		x := b.Views[0].Data
		n := len(x) / 4
		for k := 1; k < 4; k++ {
			if !slicesEqual(x[:n], x[k*n:(k+1)*n]) {
				t.Fatalf("step %d: clip frame %d differs from frame 0", s, k)
			}
		}
	}
}

func slicesEqual(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDiskCache: a second Open of the same data reads the frames from the
// disk cache (ffmpeg is made unavailable to prove it) and gets the same
// pixels.
func TestDiskCache(t *testing.T) {
	needFFmpeg(t)
	root := makeTree(t)
	dir := t.TempDir()
	opt := video.Options{Width: 16, Height: 12, DiskCache: dir}
	d1, err := video.Open(root, opt)
	if err != nil {
		t.Fatal(err)
	}
	old := video.FFmpeg
	video.FFmpeg = "ffmpeg-not-installed-here"
	defer func() { video.FFmpeg = old }()
	d2, err := video.Open(root, opt)
	if err != nil {
		t.Fatalf("second open (from the disk cache): %v", err)
	}
	for i := 0; i < d1.Len(); i++ {
		f1, _ := d1.Frames(i)
		f2, _ := d2.Frames(i)
		if !bytes.Equal(f1.Pix, f2.Pix) || d1.NumFrames[i] != d2.NumFrames[i] {
			t.Fatalf("video %d differs after the disk cache", i)
		}
	}
	if _, err := video.Open(root, video.Options{Width: 20, Height: 12, DiskCache: dir}); !errors.Is(err, video.ErrNoFFmpeg) {
		t.Errorf("another decode size must not hit the cache: error %v, want ErrNoFFmpeg", err)
	}
}
