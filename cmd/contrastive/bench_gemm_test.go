package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/kernels"
)

func TestBenchGemmJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"bench", "gemm", "--size", "64", "-n", "48", "--repeats", "2", "--threads", "1", "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut.String())
	}
	var res kernels.SgemmBenchResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output %q is not one JSON object: %v", out.String(), err)
	}
	if res.Op != "sgemm" || res.M != 64 || res.N != 48 || res.K != 64 || res.Threads != 1 || res.Repeats != 2 || res.Impl != kernels.Impl() {
		t.Errorf("result %+v, want op=sgemm m=64 n=48 k=64 threads=1 repeats=2 impl=%s", res, kernels.Impl())
	}
	if !(res.GFLOPS > 0) || !(res.Seconds > 0) || res.Median < res.Seconds {
		t.Errorf("timings %+v: want gflops > 0 and 0 < seconds ≤ median", res)
	}
	for _, key := range []string{`"op"`, `"m"`, `"impl"`, `"threads"`, `"gflops"`, `"seconds"`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("JSON %s lacks %s", out.String(), key)
		}
	}
}

func TestBenchGemmErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--size", "-3"}, 1, "sizes must be positive"},
		{[]string{"--impl", "nosuch"}, 1, `implementation "nosuch" not available`},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"extra"}, 2, "unexpected arguments"},
	} {
		var out, errOut bytes.Buffer
		code := run(append([]string{"bench", "gemm"}, tc.args...), &out, &errOut)
		if code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut.String(), tc.code, tc.msg)
		}
	}
}
