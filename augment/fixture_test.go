package augment

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/safetensors"
)

// fixtureCase is one entry of a fixture's "cases" metadata, written by
// tools/gen_augment_fixtures.py: an op of torchvision.transforms.functional
// with fixed parameters, applied to input "in/<Input>", expected output
// "out/<Name>".
type fixtureCase struct {
	Name, Op, Input                       string
	Top, Left, Height, Width              int
	OutH                                  int `json:"out_h"`
	OutW                                  int `json:"out_w"`
	Mode                                  string
	Antialias                             bool
	Angle, Factor, Threshold, Sigma       float64
	Fill, Mean, Std                       []float32
	K, Channels, Kernel                   int
	Order                                 []int
	Brightness, Contrast, Saturation, Hue float64
}

const regen = "re-run /usr/bin/python3 tools/gen_augment_fixtures.py"

func loadFixture(t *testing.T, file string) (*safetensors.File, []fixtureCase) {
	t.Helper()
	path := filepath.Join("testdata", file)
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatalf("%v (%s)", err, regen)
	}
	if p := f.Metadata["producer"]; p != "tools/gen_augment_fixtures.py" {
		t.Fatalf("%s: producer %q, want tools/gen_augment_fixtures.py (%s)", path, p, regen)
	}
	var cases []fixtureCase
	if err := json.Unmarshal([]byte(f.Metadata["cases"]), &cases); err != nil {
		t.Fatalf("%s: bad cases metadata: %v (%s)", path, err, regen)
	}
	return f, cases
}

func fixtureImage(t *testing.T, f *safetensors.File, name string) *Image {
	t.Helper()
	x, err := f.Float32(name)
	if err != nil {
		t.Fatalf("%v (%s)", err, regen)
	}
	s := x.Shape()
	if len(s) != 3 {
		t.Fatalf("fixture %s has shape %v, want HWC (%s)", name, s, regen)
	}
	return &Image{H: s[0], W: s[1], C: s[2], Pix: x.Data}
}

// runCase applies c to img with this package.
func runCase(t *testing.T, c fixtureCase, img *Image) *Image {
	mode := func() Interpolation {
		m, err := ParseInterpolation(c.Mode)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	switch c.Op {
	case "resized_crop":
		return ResizedCrop(img, c.Top, c.Left, c.Height, c.Width, Size{c.OutH, c.OutW}, mode(), c.Antialias)
	case "center_crop":
		return CenterCrop(img, Size{c.OutH, c.OutW})
	case "hflip":
		return HFlip(img)
	case "rotate":
		return Rotate(img, c.Angle, mode(), c.Fill)
	case "rot90":
		return Rot90(img, c.K)
	case "brightness":
		return AdjustBrightness(img, c.Factor)
	case "contrast":
		return AdjustContrast(img, c.Factor)
	case "saturation":
		return AdjustSaturation(img, c.Factor)
	case "hue":
		return AdjustHue(img, c.Factor)
	case "grayscale":
		return ToGrayscale(img, c.Channels)
	case "solarize":
		return Solarize(img, c.Threshold)
	case "normalize":
		return (&Normalize{Mean: c.Mean, Std: c.Std}).Apply(img, nil)
	case "blur":
		return Blur(img, c.Kernel, c.Sigma)
	case "jitter":
		p := JitterParams{Brightness: c.Brightness, Contrast: c.Contrast, Saturation: c.Saturation, Hue: c.Hue}
		copy(p.Order[:], c.Order)
		return p.Apply(img)
	}
	t.Fatalf("case %s: unknown op %q (%s)", c.Name, c.Op, regen)
	return nil
}

// maxAbsDiff returns the largest |a-b| and where it is.
func maxAbsDiff(a, b *Image) (float64, string) {
	worst, at := 0.0, ""
	for i := range a.Pix {
		if d := math.Abs(float64(a.Pix[i] - b.Pix[i])); d > worst || math.IsNaN(d) {
			p := i / a.C
			worst, at = d, fmt.Sprintf("y=%d x=%d c=%d got %g want %g", p/a.W, p%a.W, i%a.C, a.Pix[i], b.Pix[i])
		}
	}
	return worst, at
}

// Tolerances: the requirement is torchvision's pixels within 1/255. Most
// ops agree to float32 rounding, so they are held to tighter bounds that
// still leave room for a different summation order.
var fixtureTol = map[string]float64{
	"resized_crop": 1e-5, "center_crop": 0, "hflip": 0, "rot90": 0,
	"rotate": 1e-5, "brightness": 1e-6, "contrast": 1e-5, "saturation": 1e-6,
	"hue": 1e-5, "grayscale": 1e-6, "solarize": 0, "normalize": 1e-5,
	"blur": 1e-4, "jitter": 1e-5,
}

func TestTorchvisionFixtures(t *testing.T) {
	seen := map[string]int{}
	worst := map[string]float64{}
	for _, file := range []string{"resize.safetensors", "geometry.safetensors", "color.safetensors", "blur.safetensors"} {
		f, cases := loadFixture(t, file)
		for _, c := range cases {
			t.Run(c.Name, func(t *testing.T) {
				in := fixtureImage(t, f, "in/"+c.Input)
				orig := in.Clone()
				want := fixtureImage(t, f, "out/"+c.Name)
				got := runCase(t, c, in)
				if got.H != want.H || got.W != want.W || got.C != want.C {
					t.Fatalf("got %dx%dx%d, torchvision %dx%dx%d", got.H, got.W, got.C, want.H, want.W, want.C)
				}
				tol, ok := fixtureTol[c.Op]
				if !ok {
					t.Fatalf("no tolerance for op %s", c.Op)
				}
				tol = min(tol, 1.0/255)
				d, at := maxAbsDiff(got, want)
				if d > tol || math.IsNaN(d) {
					t.Errorf("max |diff| %.3g > %.3g at %s (fixture %s)", d, tol, at, file)
				}
				worst[c.Op] = max(worst[c.Op], d)
				if d, _ := maxAbsDiff(in, orig); d != 0 {
					t.Errorf("input modified")
				}
			})
			seen[c.Op]++
		}
	}
	for op := range fixtureTol {
		t.Logf("%-12s %2d cases, max |diff| from torchvision %.3g", op, seen[op], worst[op])
		if seen[op] == 0 {
			t.Errorf("no fixture case for op %s (%s)", op, regen)
		}
	}
}
