package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/contrastive-ssl/contrastive/kernels"
)

func init() {
	register("bench gemm", "time SGEMM (C = A·B) in GFLOP/s", benchGemm)
}

// benchGemm parses the flags of "bench gemm", runs kernels.BenchSgemm and
// prints its result as one JSON object (--json) or one line.
func benchGemm(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench gemm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.Int("size", 2048, "m = n = k (overridden per dimension by -m, -n, -k)")
	m := fs.Int("m", 0, "rows of C (0: -size)")
	n := fs.Int("n", 0, "columns of C (0: -size)")
	k := fs.Int("k", 0, "inner dimension (0: -size)")
	transA := fs.Bool("trans-a", false, "A is stored transposed (k×m)")
	transB := fs.Bool("trans-b", false, "B is stored transposed (n×k)")
	threads := fs.Int("threads", 0, "worker goroutines (0: GOMAXPROCS)")
	repeats := fs.Int("repeats", 5, "timed runs after a warm-up; the fastest is reported")
	impl := fs.String("impl", "", fmt.Sprintf("kernel implementation, one of %v (default: the fastest)", kernels.Impls()))
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args, stderr); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench gemm: unexpected arguments %q\n", fs.Args())
		return 2
	}
	dim := func(v int) int {
		if v == 0 {
			return *size
		}
		return v
	}
	res, err := kernels.BenchSgemm(kernels.SgemmBenchOptions{
		M: dim(*m), N: dim(*n), K: dim(*k), TransA: *transA, TransB: *transB,
		Threads: *threads, Repeats: *repeats, Impl: *impl,
	})
	if err != nil {
		fmt.Fprintf(stderr, "bench gemm: %v\n", err)
		return 1
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			fmt.Fprintf(stderr, "bench gemm: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "sgemm m=%d n=%d k=%d impl=%s threads=%d: %.1f GFLOP/s (best of %d: %.3f ms, median %.3f ms)\n",
		res.M, res.N, res.K, res.Impl, res.Threads, res.GFLOPS, res.Repeats, res.Seconds*1e3, res.Median*1e3)
	return 0
}
