package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/index"
	"github.com/contrastive-ssl/contrastive/serve"
)

// TestServeCommand runs `contrastive serve` as a child process over an
// index of 16 gray images made with a fresh MNIST-shaped encoder, searches
// it over HTTP, load-tests it briefly and stops it with SIGTERM.
func TestServeCommand(t *testing.T) {
	tmp := t.TempDir()
	runDir := filepath.Join(tmp, "run")
	var out, errb bytes.Buffer
	if rc := run([]string{"pretrain", "--data", "mnist", "--width", "0.0625", "--max-steps", "0", "--out", runDir}, &out, &errb); rc != 0 {
		t.Fatalf("pretrain: %d %s", rc, errb.String())
	}
	imgDir, ixDir := filepath.Join(tmp, "images"), filepath.Join(tmp, "ix")
	model, err := serve.LoadModel(runDir, 28, 0)
	if err != nil {
		t.Fatal(err)
	}
	if model.Channels() != 1 {
		t.Fatalf("an MNIST encoder with %d input channels", model.Channels())
	}
	w, err := index.Create(ixDir, model.Dim(), true)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var pngs [][]byte
	var imgs []*augment.Image
	for i := range 16 {
		g := image.NewGray(image.Rect(0, 0, 28, 28))
		for j := range g.Pix {
			g.Pix[j] = uint8(rng.IntN(256) * (i + 1) / 16)
		}
		var buf bytes.Buffer
		png.Encode(&buf, g)
		pngs = append(pngs, buf.Bytes())
		os.MkdirAll(filepath.Join(imgDir, "digits"), 0o755)
		os.WriteFile(filepath.Join(imgDir, "digits", strconv.Itoa(i)+".png"), buf.Bytes(), 0o644)
		imgs = append(imgs, serve.ToImage(g, 1))
	}
	vecs, err := model.Embed(imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vecs {
		w.Add(v, index.Entry{Path: "digits/" + strconv.Itoa(i) + ".png", Label: "d" + strconv.Itoa(i%2)})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(serve.Meta{Data: imgDir + ":test", Checkpoint: runDir})
	os.WriteFile(filepath.Join(ixDir, serve.MetaFile), meta, 0o644)

	cmd := child("serve", "--index", ixDir, "--addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	url := ""
	for url == "" && lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			url = u
		}
	}
	if url == "" {
		t.Fatalf("serve printed no address; stderr: %s", stderr.String())
	}
	resp, err := http.Post(url+"/v1/search?k=3", "image/png", bytes.NewReader(pngs[9]))
	if err != nil {
		t.Fatal(err)
	}
	var ans struct{ Results []serve.Result }
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if len(ans.Results) != 3 || ans.Results[0].Row != 9 || ans.Results[0].Score < 0.9999 || ans.Results[0].Path != "digits/9.png" || ans.Results[0].Label != "d1" {
		t.Fatalf("search by image 9: %+v", ans.Results)
	}
	resp, err = http.Get(url + "/v1/images/9")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got.Bytes(), pngs[9]) {
		t.Fatalf("/v1/images/9: %d bytes, not the file's %d", got.Len(), len(pngs[9]))
	}

	query := filepath.Join(tmp, "q.png")
	os.WriteFile(query, pngs[3], 0o644)
	out.Reset()
	if rc := run([]string{"serve", "load", "--url", url, "--image", query, "--requests", "6", "--concurrency", "2", "--k", "4", "--json"}, &out, &errb); rc != 0 {
		t.Fatalf("serve load: %d %s", rc, errb.String())
	}
	var stats []serve.LoadStats
	if err := json.Unmarshal(out.Bytes(), &stats); err != nil || len(stats) != 3 || stats[0].Requests != 6 || stats[2].Requests != 6 {
		t.Fatalf("serve load: %v %s", err, out.String())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for lines.Scan() {
			if lines.Text() == "shut down" {
				done <- cmd.Wait()
				return
			}
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of SIGTERM")
	}
}

func TestServeCommandErrors(t *testing.T) {
	tmp := t.TempDir()
	for _, c := range []struct {
		args []string
		rc   int
		msg  string
	}{
		{[]string{"serve"}, 2, "--index is required"},
		{[]string{"serve", "--index", tmp, "extra"}, 2, "no arguments"},
		{[]string{"serve", "--index", filepath.Join(tmp, "empty")}, 2, "--checkpoint is required"},
		{[]string{"serve", "--index", filepath.Join(tmp, "none"), "--checkpoint", tmp}, 1, "no such file"},
		{[]string{"serve", "load"}, 2, "--image is required"},
		{[]string{"serve", "load", "--image", "/nonexistent.png"}, 1, "no such file"},
	} {
		var out, errb bytes.Buffer
		if rc := run(c.args, &out, &errb); rc != c.rc || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d with %q", c.args, rc, errb.String(), c.rc, c.msg)
		}
	}
	layered := filepath.Join(tmp, "layered")
	os.MkdirAll(layered, 0o755)
	os.WriteFile(filepath.Join(layered, serve.MetaFile), []byte(`{"checkpoint": "run", "layer": "layer3", "size": 32}`), 0o644)
	os.WriteFile(filepath.Join(tmp, serve.MetaFile), []byte(`{"data": "x"`), 0o644)
	for _, c := range []struct {
		dir, msg string
	}{{layered, "--layer layer3"}, {tmp, "unexpected end of JSON"}} {
		var out, errb bytes.Buffer
		if rc := run([]string{"serve", "--index", c.dir}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("serve --index %s: exit %d, %q; want 1 with %q", c.dir, rc, errb.String(), c.msg)
		}
	}
	img := filepath.Join(tmp, "x.png")
	os.WriteFile(img, []byte("\x89PNG"), 0o644)
	var out, errb bytes.Buffer
	if rc := run([]string{"serve", "load", "--url", "http://192.0.2.1:8080", "--image", img}, &out, &errb); rc != 1 || !strings.Contains(errb.String(), "not a loopback address") {
		t.Errorf("serve load against another machine: exit %d, %q", rc, errb.String())
	}
}
