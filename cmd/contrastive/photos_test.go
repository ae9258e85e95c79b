package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/data"
)

// photoFolder writes an ImageNet-layout folder of JPEGs of different
// sizes (18 to 47 pixels a side): train/ and val/ with classes "dark" and
// "light" whose images differ in brightness, so that even a random
// encoder's kNN beats chance.
func photoFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for split, n := range map[string]int{"train": 12, "val": 6} {
		for c, class := range []string{"dark", "light"} {
			for i := range n {
				w, h := 18+(i*7)%30, 20+(i*11)%27
				img := image.NewRGBA(image.Rect(0, 0, w, h))
				for y := range h {
					for x := range w {
						v := uint8(40 + 150*c + (x*y+i)%40)
						img.Set(x, y, color.RGBA{v, uint8(int(v) * 3 / 4), uint8(x * 5), 255})
					}
				}
				p := filepath.Join(dir, split, class, fmt.Sprintf("%02d.JPEG", i))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return dir
}

// TestPhotoFolderCommands runs pretrain, eval knn and augment on a
// mixed-size JPEG folder with DIR:val, without any size flag for augment:
// pretrain trains at --image-size 16 and records it; eval knn, reading
// the size from the checkpoint, reproduces pretrain's own final kNN
// exactly, and a random-init encoder separates the two brightness
// classes.
func TestPhotoFolderCommands(t *testing.T) {
	dir := photoFolder(t)
	out := filepath.Join(t.TempDir(), "run")
	var stdout, stderr bytes.Buffer
	args := []string{"pretrain", "--data", dir, "--test-data", dir + ":val", "--stem", "imagenet", "--width", "0.0625",
		"--image-size", "16", "--batch-size", "8", "--max-steps", "2", "--warmup-epochs", "0", "--workers", "2",
		"--knn-k", "5", "--compare-random", "--out", out, "--json"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("pretrain exit %d: %s", code, stderr.String())
	}
	var sum struct {
		Steps     int `json:"steps"`
		KNN       struct{ Top1 float64 }
		RandomKNN struct{ Top1 float64 } `json:"random_init_knn"`
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("summary %q: %v", stdout.String(), err)
	}
	if sum.Steps != 2 || sum.RandomKNN.Top1 < 0.75 {
		t.Errorf("summary %+v: want 2 steps and a random-init kNN of at least 75%% on two brightness classes", sum)
	}
	cfg, err := os.ReadFile(filepath.Join(out, "config.yaml"))
	if err != nil || !strings.Contains(string(cfg), "image_size: 16") {
		t.Errorf("config.yaml does not record image_size: 16 (%v):\n%s", err, cfg)
	}
	stdout.Reset()
	if code := run([]string{"eval", "knn", "--checkpoint", out, "--train", dir, "--test", dir + ":validation", "--k", "5", "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("eval knn exit %d: %s", code, stderr.String())
	}
	var res struct{ Top1 float64 }
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("eval output %q: %v", stdout.String(), err)
	}
	if res.Top1 != sum.KNN.Top1 {
		t.Errorf("eval knn top-1 %v, pretrain's final kNN %v: want the same (both at the checkpoint's 16 px)", res.Top1, sum.KNN.Top1)
	}
	grid := filepath.Join(t.TempDir(), "views.png")
	stdout.Reset()
	if code := run([]string{"augment", "--data", dir + ":val", "--n", "3", "--preset", "simclr", "--out", grid}, &stdout, &stderr); code != 0 {
		t.Fatalf("augment exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "simclr-imagenet") {
		t.Errorf("augment on a mixed-size folder: %q, want the 224-pixel (imagenet) variant", stdout.String())
	}
}

// TestStreamedKillAndResumeIsExact: a mixed-size JPEG folder over a
// 1 KiB --max-memory is decoded from disk by the loader's workers; a run
// killed with SIGKILL and resumed equals the uninterrupted one, bit for
// bit.
func TestStreamedKillAndResumeIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns training processes")
	}
	dir := photoFolder(t)
	killAndResume(t, func(out string) []string {
		return []string{"pretrain", "--data", dir, "--max-memory", "1KiB", "--stem", "imagenet", "--width", "0.0625",
			"--image-size", "16", "--batch-size", "4", "--max-steps", "60", "--checkpoint-every", "3", "--log-every", "1",
			"--warmup-epochs", "0", "--lr", "0.05", "--workers", "2", "--seed", "5", "--out", out}
	}, 60, 7, "projector.0.weight")
}

// TestPrepareAndBenchDecode: prepare writes a mixed-size folder as shards
// that open as the same dataset (sizes capped by --short-side, labels
// kept), with a progress bar; bench augment on the folder times decoding
// from the files.
func TestPrepareAndBenchDecode(t *testing.T) {
	dir := photoFolder(t)
	out := filepath.Join(t.TempDir(), "shards")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"prepare", "--data", dir, "--out", out, "--short-side", "20", "--per-shard", "10"}, &stdout, &stderr); code != 0 {
		t.Fatalf("prepare exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "wrote 24 images") || !strings.Contains(stderr.String(), "24/24 images") {
		t.Errorf("prepare output %q, progress %q", stdout.String(), stderr.String())
	}
	src, err := data.Open(dir, data.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Open(out, data.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 24 || ds.NumClasses() != 2 || ds.Label(23) != 1 {
		t.Fatalf("shards: %d images, %d classes, label 23 = %d; want 24, 2, 1", ds.Len(), ds.NumClasses(), ds.Label(23))
	}
	for i := range 24 {
		a, _ := src.(data.RawDataset).Raw(i)
		b, err := ds.(data.RawDataset).Raw(i)
		if err != nil || min(b.H, b.W) != min(a.H, a.W, 20) {
			t.Fatalf("image %d: %dx%d from %dx%d (%v), want a shorter side of min(%d, 20)", i, b.W, b.H, a.W, a.H, err, min(a.H, a.W))
		}
	}
	stdout.Reset()
	if code := run([]string{"bench", "augment", "--data", dir, "--size", "16", "--seconds", "0", "--threads", "2", "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("bench augment exit %d: %s", code, stderr.String())
	}
	var res augmentBenchResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Impl != "contrastive-decode" || res.Images != 24 || !(res.ImagesPerSec > 0) {
		t.Errorf("bench augment --data DIR: %+v (%v), want contrastive-decode over one batch of the 24 images", res, err)
	}
}
