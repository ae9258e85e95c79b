package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/kernels"
)

func TestBenchConvJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"bench", "conv", "--batch", "2", "--min-time", "1ms", "--reps", "1", "--threads", "1",
		"--shapes", "layer4.conv,layer2.0.downsample", "--json"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut.String())
	}
	var rep convBenchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output %q is not one JSON object: %v", out.String(), err)
	}
	if rep.Batch != 2 || rep.Threads != 1 || rep.Impl != kernels.Impl() || rep.Layout != "nhwc" || len(rep.Shapes) != 2 {
		t.Fatalf("report %+v: want batch 2, 1 thread, impl %s, layout nhwc, 2 shapes", rep, kernels.Impl())
	}
	want := []struct {
		name       string
		in         [4]int
		oc, k, str int
	}{{"layer2.0.downsample", [4]int{2, 64, 32, 32}, 128, 1, 2}, {"layer4.conv", [4]int{2, 512, 4, 4}, 512, 3, 1}}
	for i, w := range want {
		r := rep.Shapes[i]
		if r.Name != w.name || len(r.In) != 4 || [4]int(r.In) != w.in || r.OutChannels != w.oc || r.Kernel != w.k || r.Stride != w.str {
			t.Errorf("shape %d = %+v, want %+v", i, r, w)
		}
		if !(r.Ms > 0) || !(r.GFLOPS > 0) || r.Reps < 1 || r.MsMin > r.Ms {
			t.Errorf("shape %s timings %+v: want ms > 0, gflops > 0, reps ≥ 1, ms_min ≤ ms", r.Name, r)
		}
	}
	for _, key := range []string{`"batch"`, `"shapes"`, `"name"`, `"in"`, `"out_channels"`, `"kernel"`, `"stride"`, `"gflops"`, `"ms"`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func TestBenchConvErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--shapes", "nosuch"}, 2, `unknown shape "nosuch"`},
		{[]string{"--batch", "-1"}, 1, "must be positive"},
		{[]string{"--threads", "-2"}, 1, "--threads"},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"extra"}, 2, "unexpected arguments"},
	} {
		var out, errOut bytes.Buffer
		code := run(append([]string{"bench", "conv"}, tc.args...), &out, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut.String(), tc.code, tc.msg)
		}
	}
}
