package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestBenchStepJSON(t *testing.T) {
	var out, errb bytes.Buffer
	args := []string{"bench", "step", "--width", "0.0625", "--batch", "4", "--size", "16", "--steps", "1", "--json"}
	if rc := run(args, &out, &errb); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errb.String())
	}
	var r struct {
		ImagesPerSec  float64 `json:"images_per_sec"`
		StepMS        float64 `json:"step_ms"`
		AllocsPerStep float64 `json:"allocs_per_step"`
		Split         []struct {
			Stage string `json:"stage"`
		} `json:"split"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v in %q", err, out.String())
	}
	if !(r.ImagesPerSec > 0 && r.StepMS > 0 && r.AllocsPerStep > 0) || len(r.Split) != 7 {
		t.Errorf("result %+v", r)
	}
	if rc := run([]string{"bench", "step", "--batch", "1"}, &out, &errb); rc != 2 {
		t.Errorf("--batch 1: exit %d, want 2", rc)
	}
}
