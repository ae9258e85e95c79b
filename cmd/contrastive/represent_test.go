package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/npy"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/train"
)

// colourFolder writes a labelled image folder DIR/{train,test}/<class>/*.png
// of 16×16 images: 4 classes of distinct base colours plus noise, perTrain
// and perTest images per class. test/c0/dup.png is an exact copy of
// test/c0/0.png, a near-duplicate to find.
func colourFolder(t *testing.T, perTrain, perTest int) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "colours")
	base := [][3]float64{{200, 40, 40}, {40, 200, 40}, {40, 40, 200}, {200, 200, 40}}
	rng := rand.New(rand.NewPCG(3, 4))
	write := func(rel string, img image.Image) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, split := range []struct {
		name string
		n    int
	}{{"train", perTrain}, {"test", perTest}} {
		for c, col := range base {
			for i := 0; i < split.n; i++ {
				img := image.NewRGBA(image.Rect(0, 0, 16, 16))
				for y := 0; y < 16; y++ {
					for x := 0; x < 16; x++ {
						v := func(b float64) uint8 { return uint8(min(max(b+60*(rng.Float64()-0.5), 0), 255)) }
						img.Set(x, y, color.RGBA{v(col[0]), v(col[1]), v(col[2]), 255})
					}
				}
				rel := filepath.Join(split.name, "c"+strconv.Itoa(c), strconv.Itoa(i)+".png")
				write(rel, img)
				if split.name == "test" && c == 0 && i == 0 {
					write(filepath.Join("test", "c0", "dup.png"), img)
				}
			}
		}
	}
	return root
}

// runOK runs a command in-process and returns its stdout, failing the
// test on a non-zero exit.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var so, se bytes.Buffer
	if code := run(args, &so, &se); code != 0 {
		t.Fatalf("%s: exit %d\n%s%s", strings.Join(args, " "), code, so.String(), se.String())
	}
	return so.String()
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestRepresentationCommands drives embed, neighbors (rows, a query file,
// duplicates), export (torchvision, ONNX), eval --init/--layer and
// pretrain --init on a small folder of coloured images.
func TestRepresentationCommands(t *testing.T) {
	root := colourFolder(t, 8, 4)
	tmp := t.TempDir()
	runDir := filepath.Join(tmp, "run")
	runOK(t, "pretrain", "--data", root+":train", "--width", "0.0625", "--batch-size", "8", "--max-steps", "0",
		"--warmup-epochs", "0", "--workers", "1", "--seed", "5", "--out", runDir)

	// embed: 17 test images (4 classes × 4 + the duplicate), 32-d pooled features.
	idx := filepath.Join(tmp, "idx")
	// Relative references (as typed in a shell) are stored absolute in embed.json.
	wd, _ := os.Getwd()
	relRun, err := filepath.Rel(wd, runDir)
	if err != nil {
		t.Fatal(err)
	}
	relRoot, _ := filepath.Rel(wd, root)
	out := runOK(t, "embed", "--checkpoint", relRun, "--data", relRoot+":test", "--out", idx, "--normalize")
	if !strings.Contains(out, "embedded 17 images") {
		t.Errorf("embed output %q", out)
	}
	vec, n, d, err := npy.Read(filepath.Join(idx, "embeddings.npy"))
	if err != nil || n != 17 || d != 32 {
		t.Fatalf("embeddings.npy: %d×%d, %v; want 17×32", n, d, err)
	}
	var ss float64
	for _, v := range vec[:d] {
		ss += float64(v) * float64(v)
	}
	if ss < 0.999 || ss > 1.001 {
		t.Errorf("--normalize: row 0 has squared norm %v", ss)
	}
	rows := readCSV(t, filepath.Join(idx, "index.csv"))
	if len(rows) != 18 || strings.Join(rows[0], ",") != "row,path,label" || rows[1][2] != "c0" || rows[17][2] != "c3" {
		t.Fatalf("index.csv: %d lines, first %v, second %v", len(rows), rows[0], rows[1])
	}
	// --layer head: the SimCLR run's 128-d projection; --layer layer2: 8·2 channels.
	for _, c := range []struct {
		layer string
		dim   int
	}{{"head", 128}, {"layer2", 8}} {
		dir := filepath.Join(tmp, "idx-"+c.layer)
		runOK(t, "embed", "--checkpoint", runDir, "--data", root+":test", "--out", dir, "--layer", c.layer)
		if _, n, d, err := npy.Read(filepath.Join(dir, "embeddings.npy")); err != nil || n != 17 || d != c.dim {
			t.Errorf("--layer %s: %d×%d (%v), want 17×%d", c.layer, n, d, err, c.dim)
		}
	}
	var eo, ee bytes.Buffer
	if code := run([]string{"embed", "--init", filepath.Join(tmp, "missing.safetensors"), "--data", root + ":test", "--out", filepath.Join(tmp, "x")}, &eo, &ee); code != 1 {
		t.Errorf("embed --init of a missing file: exit %d, want 1 (%s)", code, ee.String())
	}

	// duplicates: exactly the copied pair reaches 0.99999.
	dups := filepath.Join(tmp, "dups.csv")
	runOK(t, "neighbors", "--index", idx, "--duplicates", "--threshold", "0.99999", "--out", dups)
	pairs := readCSV(t, dups)
	if len(pairs) != 2 || strings.Join(pairs[0], ",") != "a,b,score,path_a,path_b" {
		t.Fatalf("dups.csv %v, want one pair", pairs)
	}
	a, _ := strconv.Atoi(pairs[1][0])
	b, _ := strconv.Atoi(pairs[1][1])
	if rows[a+1][2] != "c0" || rows[b+1][2] != "c0" {
		t.Errorf("duplicate pair %v is not the two c0 copies", pairs[1])
	}

	// neighbours of the first copy: the second, at similarity 1.000.
	grid := filepath.Join(tmp, "grid.png")
	out = runOK(t, "neighbors", "--index", idx, "--row", strconv.Itoa(a)+",5", "--k", "3", "--out", grid, "--cell", "32")
	if !strings.HasPrefix(out, "row "+strconv.Itoa(a)+": "+strconv.Itoa(b)+" (1.000 c0)") {
		t.Errorf("neighbors output %q, want row %d first with 1.000", out, b)
	}
	checkPNG(t, grid, 6+4*(42+6), 6+2*(32+28+6))

	// embed.json records absolute paths, so the index works from anywhere.
	info, err := train.ReadEmbedInfo(idx)
	if err != nil || info.Checkpoint != runDir || !filepath.IsAbs(info.Checkpoint) || !strings.HasSuffix(info.Data, ":test") || !filepath.IsAbs(strings.TrimSuffix(info.Data, ":test")) {
		t.Errorf("embed.json: %+v, %v; want absolute paths", info, err)
	}

	// A query file: one of the indexed images finds itself.
	q := filepath.Join(root, "test", "c2", "1.png")
	out = runOK(t, "neighbors", "--index", idx, "--query", q, "--k", "2", "--out", filepath.Join(tmp, "q.png"))
	if !strings.Contains(out, "(1.000 c2)") {
		t.Errorf("query output %q, want itself at 1.000", out)
	}

	// export torchvision, then the same index from --init.
	tv := filepath.Join(tmp, "enc.safetensors")
	ref := filepath.Join(tmp, "ref.safetensors")
	runOK(t, "export", "--checkpoint", runDir, "--format", "torchvision", "--out", tv, "--reference", ref)
	idx2 := filepath.Join(tmp, "idx2")
	runOK(t, "embed", "--init", tv, "--data", root+":test", "--out", idx2, "--normalize")
	vec2, _, _, err := npy.Read(filepath.Join(idx2, "embeddings.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range vec {
		if vec[i] != vec2[i] {
			t.Fatalf("embedding %d differs between --checkpoint and --init of its export: %v vs %v", i, vec[i], vec2[i])
		}
	}
	if f, err := safetensors.Read(ref); err != nil || f.Entries["features"] == nil || f.Entries["input.nchw"] == nil {
		t.Errorf("reference file: %v", err)
	}

	// ONNX: a non-empty file (numerics: export/onnx_test.go).
	onnxPath := filepath.Join(tmp, "enc.onnx")
	runOK(t, "export", "--checkpoint", runDir, "--format", "onnx", "--out", onnxPath)
	if st, err := os.Stat(onnxPath); err != nil || st.Size() < 10000 {
		t.Errorf("enc.onnx: %v", err)
	}

	// Stage probes: colours separate at every stage; one pass for several
	// layers gives the same numbers as one layer at a time.
	l3 := evalJSON(t, "eval", "knn", "--init", tv, "--layer", "layer3", "--train", root+":train", "--test", root+":test", "--k", "5", "--json")
	so := runOK(t, "eval", "knn", "--checkpoint", runDir, "--layer", "layer1,layer3,pool", "--train", root+":train", "--test", root+":test", "--k", "5", "--json")
	var stages []struct {
		Layer      string
		Top1, Top5 float64
	}
	if err := json.Unmarshal([]byte(so), &stages); err != nil || len(stages) != 3 {
		t.Fatalf("multi-layer output %q: %v", so, err)
	}
	if stages[1].Layer != "layer3" || stages[1].Top1 != l3.Top1 || stages[1].Top5 != l3.Top5 {
		t.Errorf("layer3 in a multi-layer pass %+v, alone %+v", stages[1], l3)
	}
	for _, s := range stages {
		if s.Top1 < 0.9 {
			t.Errorf("kNN on %s of coloured squares: %+v, want ≥ 0.9", s.Layer, s)
		}
	}

	// pretrain --init: the run starts from the exported weights.
	run2 := filepath.Join(tmp, "run2")
	runOK(t, "pretrain", "--data", root+":train", "--width", "0.0625", "--batch-size", "8", "--max-steps", "0",
		"--warmup-epochs", "0", "--workers", "1", "--seed", "99", "--init", tv, "--out", run2)
	f1, _ := safetensors.Read(filepath.Join(runDir, "checkpoint.safetensors"))
	f2, err := safetensors.Read(filepath.Join(run2, "checkpoint.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	w1, _ := f1.Float32("layer2.0.conv1.weight")
	w2, _ := f2.Float32("layer2.0.conv1.weight")
	if w1 == nil || w2 == nil || w1.Data[7] != w2.Data[7] {
		t.Errorf("pretrain --init did not start from the exported weights")
	}
}

func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != w || cfg.Height != h {
		t.Errorf("%s is %d×%d, want %d×%d", path, cfg.Width, cfg.Height, w, h)
	}
}

func TestRepresentationFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"embed", "--data", "mnist"},
		{"embed", "--checkpoint", "a", "--init", "b", "--data", "mnist", "--out", "x"},
		{"neighbors", "--index", "x"},
		{"neighbors", "--index", "x", "--out", "y.png"},
		{"export", "--checkpoint", "a", "--format", "tflite", "--out", "x"},
		{"eval", "knn", "--train", "mnist", "--test", "mnist:test"},
	} {
		var so, se bytes.Buffer
		if code := run(args, &so, &se); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, se.String())
		}
	}
}

// TestEvalTSNE maps the coloured squares from a random-init encoder and
// from an index: the CSV has one row per image with the dataset row and
// class, and images of one colour land near each other.
func TestEvalTSNE(t *testing.T) {
	root := colourFolder(t, 20, 1)
	tmp := t.TempDir()
	runDir := filepath.Join(tmp, "run")
	runOK(t, "pretrain", "--data", root+":train", "--width", "0.0625", "--batch-size", "8", "--max-steps", "0",
		"--warmup-epochs", "0", "--workers", "1", "--seed", "5", "--out", runDir)
	png := filepath.Join(tmp, "map", "tsne.png")
	runOK(t, "eval", "tsne", "--checkpoint", runDir, "--data", root+":train", "--out", png, "--perplexity", "10", "--iterations", "300")
	recs := readCSV(t, filepath.Join(tmp, "map", "tsne.csv"))
	if len(recs) != 81 || strings.Join(recs[0], ",") != "row,x,y,label" || recs[1][0] != "0" || recs[80][0] != "79" || recs[80][3] != "c3" {
		t.Fatalf("tsne.csv: %d lines, %v … %v", len(recs), recs[0], recs[len(recs)-1])
	}
	type pt struct {
		x, y  float64
		label string
	}
	var pts []pt
	for _, r := range recs[1:] {
		x, _ := strconv.ParseFloat(r[1], 64)
		y, _ := strconv.ParseFloat(r[2], 64)
		pts = append(pts, pt{x, y, r[3]})
	}
	same := 0
	for i, p := range pts {
		best, bj := 1e300, -1
		for j, q := range pts {
			if d := (p.x-q.x)*(p.x-q.x) + (p.y-q.y)*(p.y-q.y); j != i && d < best {
				best, bj = d, j
			}
		}
		if pts[bj].label == p.label {
			same++
		}
	}
	if same < 64 {
		t.Errorf("%d of 80 points have a 2-D nearest neighbour of their colour, want ≥ 64 (chance: 20)", same)
	}
	checkPNG(t, png, 720, 576)

	idx := filepath.Join(tmp, "idx")
	runOK(t, "embed", "--checkpoint", runDir, "--data", root+":train", "--out", idx)
	runOK(t, "eval", "tsne", "--index", idx, "--perplexity", "10", "--iterations", "300", "--limit", "40")
	recs = readCSV(t, filepath.Join(idx, "tsne.csv"))
	if len(recs) != 41 || recs[2][0] != "2" || recs[2][3] != "c0" {
		t.Errorf("index tsne.csv: %d lines, second row %v", len(recs), recs[2])
	}
	checkPNG(t, filepath.Join(idx, "tsne.png"), 720, 576)
}

// TestEvalFinetune fine-tunes a random-init encoder on 25% of the
// coloured squares' labels: the subset is class-balanced and the same for
// the same seed, and the test accuracy clears a floor far above chance.
func TestEvalFinetune(t *testing.T) {
	root := colourFolder(t, 16, 5)
	tmp := t.TempDir()
	runDir := filepath.Join(tmp, "run")
	runOK(t, "pretrain", "--data", root+":train", "--width", "0.0625", "--batch-size", "8", "--max-steps", "0",
		"--warmup-epochs", "0", "--workers", "1", "--seed", "5", "--out", runDir)
	out := filepath.Join(tmp, "ft")
	var res struct {
		Top1, Top5 float64
		Images     int `json:"labelled_images"`
		Steps      int
		SubsetFile string `json:"subset_file"`
	}
	so := runOK(t, "eval", "finetune", "--checkpoint", runDir, "--train", root+":train", "--test", root+":test",
		"--labels", "25%", "--out", out, "--epochs", "15", "--batch-size", "8", "--lr", "0.02", "--json")
	if err := json.Unmarshal([]byte(so), &res); err != nil {
		t.Fatalf("%q: %v", so, err)
	}
	if res.Images != 16 || res.Steps != 30 {
		t.Errorf("%d images, %d steps; want 16 (4 per class) and 30", res.Images, res.Steps)
	}
	// 5 test images per class plus the duplicate: 21; chance is 25%.
	if res.Top1 < 0.8 {
		t.Errorf("fine-tuned top-1 %.3f, want ≥ 0.8", res.Top1)
	}
	subset := readCSV(t, filepath.Join(out, "labels-25pct.csv"))
	counts := map[string]int{}
	for _, r := range subset[1:] {
		counts[r[1]]++
	}
	if len(subset) != 17 || counts["0"] != 4 || counts["3"] != 4 {
		t.Errorf("subset %v: per-class counts %v, want 4 each", subset, counts)
	}
	if _, err := os.Stat(filepath.Join(out, "finetune-25pct.json")); err != nil {
		t.Error(err)
	}
	// The same seed picks the same subset.
	again := filepath.Join(tmp, "ft2")
	runOK(t, "eval", "finetune", "--checkpoint", runDir, "--train", root+":train", "--test", root+":test",
		"--labels", "25%", "--out", again, "--max-steps", "1", "--batch-size", "8", "--json")
	b1, _ := os.ReadFile(filepath.Join(out, "labels-25pct.csv"))
	b2, _ := os.ReadFile(filepath.Join(again, "labels-25pct.csv"))
	if !bytes.Equal(b1, b2) {
		t.Error("the same seed picked a different label subset")
	}
}
