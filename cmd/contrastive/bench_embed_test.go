package main

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

func TestBenchEmbedJSON(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"bench", "embed", "--arch", "resnet50", "--width", "0.0625", "--batch", "2", "--size", "32",
		"--batches", "1", "--unfolded", "--gemm", "64", "--json"}
	if rc := run(args, &out, &errb); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errb.String())
	}
	var r struct {
		ImagesPerSec     float64 `json:"images_per_sec"`
		GFLOPPerImage    float64 `json:"gflop_per_image"`
		GFLOPSEffective  float64 `json:"gflops_effective"`
		SgemmGFLOPS      float64 `json:"sgemm_gflops"`
		SgemmFraction    float64 `json:"sgemm_fraction"`
		UnfoldedPerSec   float64 `json:"unfolded_images_per_sec"`
		UnfoldedMaxError float64 `json:"unfolded_max_rel_error"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v in %q", err, out.String())
	}
	// ResNet-50 at width 1/16 on 32 px: the convolutions' FLOPs scale
	// with width² (the 3-channel stem with width) and with the pixels.
	if !(r.ImagesPerSec > 0 && r.SgemmGFLOPS > 0 && r.UnfoldedPerSec > 0) ||
		math.Abs(r.GFLOPSEffective-r.GFLOPPerImage*r.ImagesPerSec) > 1e-6*r.GFLOPSEffective ||
		math.Abs(r.SgemmFraction-r.GFLOPSEffective/r.SgemmGFLOPS) > 1e-9 {
		t.Errorf("result %+v", r)
	}
	if r.GFLOPPerImage < 1e-4 || r.GFLOPPerImage > 1e-2 {
		t.Errorf("%g GFLOP per image, want between 1e-4 and 1e-2", r.GFLOPPerImage)
	}
	if r.UnfoldedMaxError > 1e-5 {
		t.Errorf("folded and unfolded features differ by %g (relative)", r.UnfoldedMaxError)
	}
	if rc := run([]string{"bench", "embed", "--batch", "-1"}, &out, &errb); rc != 2 {
		t.Errorf("--batch -1: exit %d, want 2", rc)
	}
}
