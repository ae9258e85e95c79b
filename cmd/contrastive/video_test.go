package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/checkpoint"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/video"
	"github.com/contrastive-ssl/contrastive/videotrain"
)

// tinyVideos writes DIR/{train,val}/{up,down}/*.mp4 with ffmpeg: 24×18
// clips of 12 frames whose brightness rises (up) or falls (down), with a
// square moving across.
func tinyVideos(t *testing.T) string {
	t.Helper()
	if !video.HaveFFmpeg() {
		t.Skip("ffmpeg not installed (apt-get install ffmpeg): skipping the video CLI test")
	}
	root := filepath.Join(t.TempDir(), "tiny")
	for _, split := range []string{"train", "val"} {
		for ci, class := range []string{"down", "up"} {
			d := filepath.Join(root, split, class)
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			for v := 0; v < 1; v++ {
				f := &video.Frames{N: 12, H: 18, W: 24, Pix: make([]uint8, 12*18*24*3)}
				for k := 0; k < 12; k++ {
					g := 40 + 12*k
					if ci == 0 {
						g = 190 - 12*k
					}
					p := f.Frame(k)
					for i := range p {
						p[i] = uint8(g + 7*v)
					}
					for y := 6; y < 12; y++ {
						for x := 2*k - 4; x < 2*k+2; x++ {
							if x >= 0 && x < 24 {
								p[(y*24+x)*3] = 255
							}
						}
					}
				}
				if err := video.Encode(filepath.Join(d, class+string(rune('0'+v))+".mp4"), f, 12); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return root
}

func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("contrastive %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// TestVideoCLIPath runs the whole video path on tiny videos made with
// ffmpeg: temporal SimCLR pretraining stopped after 2 of 3 steps and
// resumed (equal to an uninterrupted 3-step run), cross-modal and MoCo
// pretraining, linear and fine-tuning evaluation with their JSON.
func TestVideoCLIPath(t *testing.T) {
	root := tinyVideos(t)
	dir := t.TempDir()
	common := []string{"--data", root, "--width", "0.0625", "--frames", "4", "--stride", "1", "--size", "16",
		"--decode", "24x18", "--batch-size", "2", "--frame-cache", filepath.Join(dir, "cache"), "--save-every", "0"}
	pre := func(out string, extra ...string) {
		runCLI(t, append(append([]string{"pretrain", "video", "--out", filepath.Join(dir, out)}, common...), extra...)...)
	}
	pre("a", "--max-steps", "3", "--stop-at", "2") // as if killed after the checkpoint of step 2
	runCLI(t, "pretrain", "video", "--out", filepath.Join(dir, "a"), "--resume", "--frame-cache", filepath.Join(dir, "cache"))
	pre("b", "--max-steps", "3")
	fa, err1 := safetensors.Read(filepath.Join(dir, "a", "checkpoint.safetensors"))
	fb, err2 := safetensors.Read(filepath.Join(dir, "b", "checkpoint.safetensors"))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	for _, name := range []string{"stem.0.weight", "layer4.1.conv2.0.weight", "projector.0.weight"} {
		a, _ := fa.Float32(name)
		b, _ := fb.Float32(name)
		if a == nil || b == nil || !bytes.Equal(f32bytes(a.Data), f32bytes(b.Data)) {
			t.Errorf("%s: the resumed run (2 + 1 steps) differs from the uninterrupted 3-step run", name)
		}
	}
	pre("cm", "--max-steps", "2", "--pretext", "crossmodal")
	pre("moco", "--max-steps", "2", "--method", "moco", "--moco-queue-size", "8")
	if _, err := checkpoint.LoadModel(filepath.Join(dir, "cm", "checkpoint.safetensors"), nil, checkpoint.LoadOptions{IgnoreUnexpected: true}); err != nil {
		t.Fatal(err)
	}
	checkMotionEncoder(t, filepath.Join(dir, "cm"), "motion_encoder.stem.0.weight")
	checkMotionEncoder(t, filepath.Join(dir, "b"), "stem.0.weight")
	var errb bytes.Buffer
	if code := run([]string{"eval", "video", "linear", "--checkpoint", filepath.Join(dir, "cm"), "--train", root, "--test", root + ":val",
		"--modality", "depth", "--frame-cache", filepath.Join(dir, "cache")}, io.Discard, &errb); code == 0 || !strings.Contains(errb.String(), `modality "depth"`) {
		t.Errorf("eval video --modality depth: exit %d, stderr %q; want an error naming the modality", code, errb.String())
	}
	for _, kind := range []string{"linear", "finetune", "linear --modality motion", "finetune --modality motion"} {
		f := strings.Fields(kind)
		out := runCLI(t, append(append([]string{"eval", "video"}, f...), "--checkpoint", filepath.Join(dir, "cm"), "--train", root, "--test", root+":val",
			"--epochs", "2", "--clips", "2", "--batch-size", "2", "--json", "--frame-cache", filepath.Join(dir, "cache"))...)
		var res map[string]float64
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("eval video %s: %v in %q", kind, err, out)
		}
		for _, k := range []string{"clip_top1", "video_top1"} {
			v, ok := res[k]
			if !ok || v < 0 || v > 100 {
				t.Errorf("eval video %s: %s = %v (present %v), want a percentage", kind, k, v, ok)
			}
		}
		if res["videos"] != 2 || res["clips"] != 4 {
			t.Errorf("eval video %s: %v videos, %v clips; want 2 and 4", kind, res["videos"], res["clips"])
		}
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(runCLI(t, "model", "summary", "--arch", "r3d_18", "--json")), &sum); err != nil || sum["params"] != 33166272.0 {
		t.Errorf("model summary --arch r3d_18: params %v (err %v), want 33166272", sum["params"], err)
	}
}

// checkMotionEncoder checks that the motion modality's encoder of run
// holds the checkpoint's tensor want (the motion encoder of a cross-modal
// run, the encoder itself otherwise).
func checkMotionEncoder(t *testing.T, run, want string) {
	t.Helper()
	enc, _, err := videotrain.LoadMotionEncoder(run)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(filepath.Join(run, "checkpoint.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := f.Float32(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range nn.State(enc) {
		if e.Name == "stem.0.weight" {
			if !bytes.Equal(f32bytes(e.F32.Data), f32bytes(w.Data)) {
				t.Errorf("%s: the motion encoder's stem.0.weight is not the checkpoint's %s", run, want)
			}
			return
		}
	}
	t.Errorf("%s: the motion encoder has no stem.0.weight", run)
}

func f32bytes(x []float32) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		u := math.Float32bits(v)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}
