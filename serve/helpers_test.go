package serve

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/index"
)

// meanColour is a fake encoder: the image's mean red, green and blue and a
// constant, so that an image's nearest rows are the rows of similar colour.
type meanColour struct {
	mu      sync.Mutex
	calls   []int         // batch sizes seen
	gate    chan struct{} // when set, Embed waits for a value (or close) here
	entered chan struct{} // when set, Embed announces itself here first
}

func (m *meanColour) Channels() int { return 3 }
func (m *meanColour) Dim() int      { return 4 }

func (m *meanColour) Embed(imgs []*augment.Image) ([][]float32, error) {
	if m.entered != nil {
		m.entered <- struct{}{}
	}
	if m.gate != nil {
		<-m.gate
	}
	m.mu.Lock()
	m.calls = append(m.calls, len(imgs))
	m.mu.Unlock()
	out := make([][]float32, len(imgs))
	for i, img := range imgs {
		out[i] = meanVec(img)
	}
	return out, nil
}

func meanVec(img *augment.Image) []float32 {
	v := make([]float32, 4)
	for p := 0; p < img.H*img.W; p++ {
		for c := 0; c < 3; c++ {
			v[c] += img.Pix[p*3+c]
		}
	}
	for c := 0; c < 3; c++ {
		v[c] /= float32(img.H * img.W)
	}
	v[3] = 0.1
	return v
}

// colourImage is a w×h image of colour i of a fixed list of n hues, with a
// bright stripe so that it is not uniform.
func colourImage(i, n, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := uint8(40 + 200*i/n)
	g := uint8(230 - 190*i/n)
	b := uint8(60 + 150*((i*7)%n)/n)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{r, g, b, 255}
			if x == y {
				c = color.NRGBA{255, 255, 255, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixture is a served index of n colour images written as PNG files.
type fixture struct {
	dir    string // the index directory
	root   string // the image folder
	pngs   [][]byte
	ix     *index.Index
	emb    *meanColour
	srv    *Server
	ts     *httptest.Server
	labels []string
}

func newFixture(t *testing.T, n int, lim Limits, tsne bool) *fixture {
	t.Helper()
	f := &fixture{dir: filepath.Join(t.TempDir(), "ix"), root: filepath.Join(t.TempDir(), "images"), emb: &meanColour{}}
	w, err := index.Create(f.dir, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		img := colourImage(i, n, 24, 16)
		b := encodePNG(t, img)
		f.pngs = append(f.pngs, b)
		label := "class" + strconv.Itoa(i%3)
		f.labels = append(f.labels, label)
		rel := filepath.Join(label, strconv.Itoa(i)+".png")
		if err := os.MkdirAll(filepath.Join(f.root, label), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(f.root, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := w.Add(meanVec(ToImage(img, 3)), index.Entry{Path: filepath.ToSlash(rel), Label: label}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if f.ix, err = index.Open(f.dir); err != nil {
		t.Fatal(err)
	}
	paths := make([]string, n)
	for i, e := range f.ix.Entries {
		paths[i] = e.Path
	}
	images, err := OpenImages(f.root, paths, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Index: f.ix, Embedder: f.emb, Images: images, Limits: lim, Model: "mean colour"}
	if tsne {
		cfg.TSNE = filepath.Join(f.dir, TSNEFile)
		var csv bytes.Buffer
		csv.WriteString("row,x,y,label,extra\n")
		for i := 0; i < n; i++ {
			csv.WriteString(strconv.Itoa(i) + "," + strconv.Itoa(i%5) + ".5," + strconv.Itoa(i/5) + ",class" + strconv.Itoa(i%3) + ",z\n")
		}
		if err := os.WriteFile(cfg.TSNE, csv.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if f.srv, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	f.ts = httptest.NewServer(f.srv)
	t.Cleanup(func() {
		f.ts.Close()
		f.srv.Close()
	})
	return f
}

func (f *fixture) do(t *testing.T, method, path, contentType string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, f.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := f.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
