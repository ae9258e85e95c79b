package serve

import (
	"bytes"
	"image"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/eval"
	"github.com/contrastive-ssl/contrastive/index"
	"github.com/contrastive-ssl/contrastive/models"
)

// randomImages are n RGB images of h×w with values on the uint8 grid, so
// that a PNG round trip is exact.
func randomImages(n, h, w int, seed uint64) []*augment.Image {
	rng := rand.New(rand.NewPCG(seed, 1))
	imgs := make([]*augment.Image, n)
	for i := range imgs {
		imgs[i] = augment.NewImage(h, w, 3)
		base := rng.Float32()
		for j := range imgs[i].Pix {
			imgs[i].Pix[j] = float32(int(255*(0.6*base+0.4*rng.Float32()))) / 255
		}
	}
	return imgs
}

func tinyEncoder(t *testing.T) *models.ResNet {
	t.Helper()
	enc, err := models.NewResNet(models.Config{Arch: "resnet18", Stem: "cifar", InChannels: 3, Width: 0.0625}, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// TestModelMatchesFeatures checks that an upload is embedded exactly as
// eval.Features embeds the same image of a dataset (the path an index is
// made by), and that a served search by the PNG of an indexed image finds
// that image first.
func TestModelMatchesFeatures(t *testing.T) {
	enc := tinyEncoder(t)
	imgs := randomImages(6, 32, 32, 9)
	ds, err := data.FromImages("random", imgs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	norm := &augment.Normalize{Mean: augment.CIFAR10Mean, Std: augment.CIFAR10Std}
	feats, _, err := eval.Features(enc, ds, 4, func(img *augment.Image) *augment.Image { return norm.Apply(img, nil) })
	if err != nil {
		t.Fatal(err)
	}
	m := NewModel(enc, 32, 3, augment.CIFAR10Mean, augment.CIFAR10Std)
	if m.Dim() != enc.FeatureDim() || m.Channels() != 3 || m.Size() != 32 {
		t.Fatalf("model dim %d channels %d size %d", m.Dim(), m.Channels(), m.Size())
	}
	vecs, err := m.Embed(imgs)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Dim()
	for i, v := range vecs {
		for j := range v {
			if want := feats.Data[i*d+j]; math.Abs(float64(v[j]-want)) > 1e-5*(1+math.Abs(float64(want))) {
				t.Fatalf("image %d feature %d: %g, eval.Features %g", i, j, v[j], want)
			}
		}
	}
	// A larger, non-square upload goes through the eval transform.
	big := randomImages(1, 45, 60, 11)[0]
	a, _ := m.Embed([]*augment.Image{big})
	b, _ := m.Embed([]*augment.Image{augment.EvalView(big, 32)})
	for j := range a[0] {
		if a[0][j] != b[0][j] {
			t.Fatalf("45×60 upload: feature %d %g, its eval view %g", j, a[0][j], b[0][j])
		}
	}
	if _, err := m.Embed([]*augment.Image{augment.NewImage(32, 32, 1)}); err == nil {
		t.Fatal("a gray image for an RGB encoder: no error")
	}

	// Serve an index of the features; search by the PNG of image 4.
	dir := filepath.Join(t.TempDir(), "ix")
	w, _ := index.Create(dir, d, true)
	for i := range imgs {
		w.Add(feats.Data[i*d:(i+1)*d], index.Entry{Path: strconv.Itoa(i) + ".png"})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Index: ix, Embedder: m})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	resp, err := ts.Client().Post(ts.URL+"/v1/search?k=2", "image/png", bytes.NewReader(encodePNG(t, toNRGBA(imgs[4]))))
	if err != nil {
		t.Fatal(err)
	}
	ans := decodeJSON[searchAnswer](t, resp)
	if len(ans.Results) != 2 || ans.Results[0].Row != 4 || ans.Results[0].Score < 0.99999 {
		t.Fatalf("search by the PNG of image 4: %+v", ans)
	}
	// An encoder of another width does not fit this index.
	other, _ := models.NewResNet(models.Config{Arch: "resnet18", Stem: "cifar", InChannels: 3, Width: 0.125}, rand.New(rand.NewPCG(1, 1)))
	if _, err := New(Config{Index: ix, Embedder: NewModel(other, 32, 3, nil, nil)}); err == nil {
		t.Fatal("a 64-d encoder over a 32-d index: no error")
	}
}

func TestToImage(t *testing.T) {
	src := colourImage(2, 5, 6, 4)
	rgb := ToImage(src, 3)
	gray := ToImage(src, 1)
	c := src.NRGBAAt(1, 0)
	if rgb.H != 4 || rgb.W != 6 || rgb.Pix[3] != float32(c.R)/255 || rgb.Pix[4] != float32(c.G)/255 || rgb.Pix[5] != float32(c.B)/255 {
		t.Fatalf("rgb pixel (0,1) %v, want %v", rgb.Pix[3:6], c)
	}
	wantGray := (19595*float64(c.R) + 38470*float64(c.G) + 7471*float64(c.B)) / 65536 / 255
	if math.Abs(float64(gray.Pix[1])-wantGray) > 1.0/255 {
		t.Fatalf("gray pixel %g, want %g", gray.Pix[1], wantGray)
	}
	// A JPEG decodes to YCbCr: the same colour within JPEG's error.
	if out := ToImage(toYCbCrRoundTrip(t, src), 3); math.Abs(float64(out.Pix[3*5]-rgb.Pix[3*5])) > 8.0/255 || math.Abs(float64(out.Pix[3*5+1]-rgb.Pix[3*5+1])) > 8.0/255 {
		t.Fatalf("YCbCr source: %v, NRGBA source %v", out.Pix[15:18], rgb.Pix[15:18])
	}
	if out := ToImage(toRGBA(src), 3); out.Pix[3] != rgb.Pix[3] || out.Pix[5] != rgb.Pix[5] {
		t.Fatalf("RGBA source: %v, NRGBA source %v", out.Pix[3:6], rgb.Pix[3:6])
	}
}

func toRGBA(src *image.NRGBA) *image.RGBA {
	out := image.NewRGBA(src.Rect)
	for y := src.Rect.Min.Y; y < src.Rect.Max.Y; y++ {
		for x := src.Rect.Min.X; x < src.Rect.Max.X; x++ {
			out.Set(x, y, src.At(x, y))
		}
	}
	return out
}

func toYCbCrRoundTrip(t *testing.T, src *image.NRGBA) image.Image {
	img, _, err := image.Decode(bytes.NewReader(encodeJPEG(t, src)))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
