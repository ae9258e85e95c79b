package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAugmentCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "views.png")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"augment", "--n", "3", "--views", "4", "--preset", "moco-v2", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// MNIST is 28×28: scale 4 makes 112-pixel cells; 3 rows of 1 + 4 images
	// with 4-pixel gaps.
	if b := img.Bounds(); b.Dx() != 5*(112+4)+4 || b.Dy() != 3*(112+4)+4 {
		t.Errorf("grid is %dx%d, want %dx%d", b.Dx(), b.Dy(), 5*116+4, 3*116+4)
	}
	if !strings.Contains(stdout.String(), "moco-v2-cifar") {
		t.Errorf("stdout %q does not name the preset", stdout.String())
	}
}

func TestAugmentCommandErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"augment", "--preset", "byol", "--out", filepath.Join(dir, "a.png")}, 2, "unknown preset"},
		{[]string{"augment", "--data", filepath.Join(dir, "missing"), "--out", filepath.Join(dir, "b.png")}, 1, "missing"},
		{[]string{"augment", "--n", "0"}, 2, "--n"},
		{[]string{"augment", "--out", filepath.Join(dir, "no", "such", "dir.png"), "--n", "1"}, 1, "dir.png"},
		{[]string{"bench", "augment", "--size", "4"}, 2, "--size"},
		{[]string{"bench", "augment", "--preset", "nope"}, 2, "unknown preset"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
	}
}

func TestBenchAugmentJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"bench", "augment", "--seconds", "0", "--n", "16", "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res struct {
		Bench        string  `json:"bench"`
		Preset       string  `json:"preset"`
		Size         int     `json:"size"`
		Views        int     `json:"views"`
		Images       int     `json:"images"`
		ImagesPerSec float64 `json:"images_per_sec"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v in %q", err, stdout.String())
	}
	if res.Bench != "augment" || res.Preset != "simclr-cifar" || res.Size != 32 || res.Views != 2 || res.Images < 256 || !(res.ImagesPerSec > 0) {
		t.Errorf("result %+v", res)
	}
}
