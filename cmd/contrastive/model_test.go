package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestModelSummaryJSON(t *testing.T) {
	cases := []struct {
		args                     []string
		params, buffers, featDim int
		tensors                  int
		firstShape, firstName    string
	}{
		{[]string{"--arch", "resnet50", "--stem", "imagenet", "--json"}, 23508032, 53120, 2048, 318, "[64 3 7 7]", "conv1.weight"},
		{[]string{"--arch", "resnet18", "--json"}, 11176512, 9600, 512, 120, "[64 3 7 7]", "conv1.weight"},
		{[]string{"--arch", "resnet34", "--stem", "cifar", "--in-channels", "1", "--width", "0.5", "--json"}, 5323360, 8512, 256, 216, "[32 1 3 3]", "conv1.weight"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if rc := run(append([]string{"model", "summary"}, c.args...), &out, &errb); rc != 0 {
			t.Fatalf("%v: exit %d, stderr %s", c.args, rc, errb.String())
		}
		var s struct {
			Params     int `json:"params"`
			Buffers    int `json:"buffers"`
			FeatureDim int `json:"feature_dim"`
			Tensors    []struct {
				Name  string `json:"name"`
				Shape []int  `json:"shape"`
			} `json:"tensors"`
		}
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("%v: %v in %q", c.args, err, out.String())
		}
		if s.Params != c.params || s.Buffers != c.buffers || s.FeatureDim != c.featDim || len(s.Tensors) != c.tensors {
			t.Errorf("%v: params %d buffers %d feature_dim %d tensors %d", c.args, s.Params, s.Buffers, s.FeatureDim, len(s.Tensors))
		}
		if s.Tensors[0].Name != c.firstName || fmt.Sprint(s.Tensors[0].Shape) != c.firstShape {
			t.Errorf("%v: first tensor %+v", c.args, s.Tensors[0])
		}
		last := s.Tensors[len(s.Tensors)-1]
		if !strings.HasSuffix(last.Name, "num_batches_tracked") || last.Shape == nil || len(last.Shape) != 0 {
			t.Errorf("%v: last tensor %+v, want a scalar num_batches_tracked", c.args, last)
		}
	}
}

func TestModelSummaryBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--arch", "resnet19"}, {"--stem", "tiny"}, {"--width", "0"}, {"--in-channels", "0"}, {"--bogus"}, {"extra"},
	} {
		var out, errb bytes.Buffer
		if rc := run(append([]string{"model", "summary"}, args...), &out, &errb); rc != 2 {
			t.Errorf("%v: exit %d, want 2", args, rc)
		}
		if errb.Len() == 0 {
			t.Errorf("%v: no error message", args)
		}
	}
}
