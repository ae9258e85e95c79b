package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/detection"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// writeSquaresVOC writes a VOC folder of 64×64 noise images, each with
// one bright square whose box the annotation gives (1-based, inclusive),
// and train/test splits. It returns the test squares by id.
func writeSquaresVOC(t *testing.T, dir string, nTrain, nTest int) map[string][4]int {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, d := range []string{"JPEGImages", "Annotations", "ImageSets/Main"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var train, test []string
	squares := map[string][4]int{}
	for i := 0; i < nTrain+nTest; i++ {
		id := fmt.Sprintf("img%03d", i)
		img := image.NewRGBA(image.Rect(0, 0, 64, 64))
		for p := range img.Pix {
			img.Pix[p] = uint8(100 + rng.IntN(40))
			if p%4 == 3 {
				img.Pix[p] = 255
			}
		}
		s := 14 + rng.IntN(13)
		x0, y0 := rng.IntN(64-s), rng.IntN(64-s)
		for y := y0; y < y0+s; y++ {
			for x := x0; x < x0+s; x++ {
				img.Set(x, y, color.RGBA{230, 230, 230, 255})
			}
		}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		os.WriteFile(filepath.Join(dir, "JPEGImages", id+".png"), buf.Bytes(), 0o644)
		ann := fmt.Sprintf("<annotation><size><width>64</width><height>64</height></size><object><name>square</name><difficult>0</difficult><bndbox><xmin>%d</xmin><ymin>%d</ymin><xmax>%d</xmax><ymax>%d</ymax></bndbox></object></annotation>",
			x0+1, y0+1, x0+s, y0+s)
		os.WriteFile(filepath.Join(dir, "Annotations", id+".xml"), []byte(ann), 0o644)
		if i < nTrain {
			train = append(train, id)
		} else {
			test = append(test, id)
			squares[id] = [4]int{x0, y0, x0 + s, y0 + s}
		}
	}
	os.WriteFile(filepath.Join(dir, "ImageSets/Main/train.txt"), []byte(strings.Join(train, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ImageSets/Main/test.txt"), []byte(strings.Join(test, "\n")+"\n"), 0o644)
	return squares
}

// TestDetectCLI trains a tiny detector on made-up squares through the
// command line, checks the JSON metrics against a floor, re-evaluates
// the saved checkpoint to the same numbers and predicts one image whose
// square is known.
func TestDetectCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds")
	}
	dir := t.TempDir()
	voc := filepath.Join(dir, "voc")
	squares := writeSquaresVOC(t, voc, 64, 16)
	out := filepath.Join(dir, "run")
	var so, se bytes.Buffer
	code := run([]string{"detect", "train", "--train", voc + ":train", "--test", voc + ":test", "--width", "0.125", "--size", "64",
		"--neck-width", "16", "--head-width", "16", "--epochs", "100", "--max-steps", "150", "--lr", "3e-3",
		"--scale-min", "0.8", "--scale-max", "1.2", "--log-every", "50", "--seed", "3", "--out", out, "--json"}, &so, &se)
	if code != 0 {
		t.Fatalf("detect train: exit %d\n%s", code, se.String())
	}
	var tr map[string]any
	if err := json.Unmarshal(so.Bytes(), &tr); err != nil {
		t.Fatalf("train --json output %q: %v", so.String(), err)
	}
	for _, k := range []string{"ap50", "ap75", "ap"} {
		if _, ok := tr[k].(float64); !ok {
			t.Fatalf("train --json: %s missing in %s", k, so.String())
		}
	}
	if tr["ap50"].(float64) < 80 || tr["units"] != "percent" {
		t.Errorf("AP50 %v%% after training (want ≥ 80%%): %s", tr["ap50"], so.String())
	}
	so.Reset()
	if code := run([]string{"detect", "eval", "--checkpoint", out, "--data", voc + ":test", "--json"}, &so, &se); code != 0 {
		t.Fatalf("detect eval: exit %d\n%s", code, se.String())
	}
	var ev map[string]any
	json.Unmarshal(so.Bytes(), &ev)
	if ev["ap50"] != tr["ap50"] || ev["ap"] != tr["ap"] {
		t.Errorf("eval of the saved detector %v/%v differs from train's %v/%v", ev["ap50"], ev["ap"], tr["ap50"], tr["ap"])
	}
	id := "img070"
	sq := squares[id]
	pic := filepath.Join(dir, "pred.png")
	so.Reset()
	if code := run([]string{"detect", "predict", "--checkpoint", out, "--image", filepath.Join(voc, "JPEGImages", id+".png"), "--out", pic, "--score", "0.3"}, &so, &se); code != 0 {
		t.Fatalf("detect predict: exit %d\n%s", code, se.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "pred.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pj predictJSON
	if err := json.Unmarshal(b, &pj); err != nil || len(pj.Boxes) == 0 {
		t.Fatalf("predict JSON %s: %v", b, err)
	}
	best := pj.Boxes[0]
	for i, v := range best.Box {
		if math.Abs(v-float64(sq[i])) > 4 {
			t.Errorf("best box %v (score %.2f), square %v: off by more than 4 px", best.Box, best.Score, sq)
			break
		}
	}
	f, err := os.Open(pic)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width != 64 || cfg.Height != 64 {
		t.Errorf("predicted picture: %v %+v", err, cfg)
	}
	if code := run([]string{"detect", "eval", "--checkpoint", out}, &so, &se); code != 2 {
		t.Errorf("eval without --data: exit %d, want 2", code)
	}
}

// TestDetectInit: --init loads torchvision-format weights (fc.* ignored)
// into the backbone, and the detector saved after zero learning keeps
// them; weights of another architecture are an error naming the tensors.
func TestDetectInit(t *testing.T) {
	dir := t.TempDir()
	voc := filepath.Join(dir, "voc")
	writeSquaresVOC(t, voc, 8, 0)
	bb := models.MustResNet(models.Config{Arch: "resnet18", Width: 0.125}, rand.New(rand.NewPCG(5, 5)))
	state := nn.State(bb)
	fc := tensor.New(10, 64)
	fc.Fill(0.5)
	init := filepath.Join(dir, "init.safetensors")
	if err := checkpoint.SaveModel(init, append(checkpoint.Entries(state), checkpoint.Entry{Name: "fc.weight", F32: fc}), nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	var so, se bytes.Buffer
	args := []string{"detect", "train", "--train", voc + ":train", "--init", init, "--width", "0.125", "--size", "64", "--neck-width", "8", "--head-width", "8",
		"--max-steps", "1", "--lr", "1e-12", "--batch-size", "4", "--bn", "frozen", "--out", out}
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("detect train --init: exit %d\n%s", code, se.String())
	}
	m, meta, err := detection.Load(filepath.Join(out, detectorFile))
	if err != nil {
		t.Fatal(err)
	}
	if !meta.FrozenBN || !strings.HasPrefix(meta.Init, "init ") {
		t.Errorf("meta %+v", meta)
	}
	got := nn.State(m.Backbone)
	for i, e := range state {
		if e.F32 == nil {
			continue
		}
		for j, v := range e.F32.Data {
			if d := math.Abs(float64(got[i].F32.Data[j] - v)); d > 1e-6 {
				t.Fatalf("%s[%d] = %v after 1 step at lr 1e-12, want the --init value %v", e.Name, j, got[i].F32.Data[j], v)
			}
		}
	}
	se.Reset()
	args[7] = "0.25" // --width 0.25: shapes differ
	if code := run(args, &so, &se); code != 1 || !strings.Contains(se.String(), "conv1.weight") {
		t.Errorf("mismatched --init: exit %d, %s", code, se.String())
	}
}
