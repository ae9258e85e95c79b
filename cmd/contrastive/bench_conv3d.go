package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
)

func init() {
	register("bench conv3d", "time Conv3d forward+backward on r3d_18 / r2plus1d_18 shapes", benchConv3d)
}

func benchConv3d(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench conv3d", flag.ContinueOnError)
	fs.SetOutput(stderr)
	batch := fs.Int("batch", 2, "clips per batch")
	minTime := fs.Duration("min-time", time.Second, "minimum timing per shape")
	reps := fs.Int("reps", 3, "minimum repetitions per shape")
	only := fs.String("shapes", "", "comma-separated shape names (default: all)")
	threads := fs.Int("threads", 0, "worker goroutines (0: GOMAXPROCS)")
	asJSON := fs.Bool("json", false, "print JSON (the fields of bench/torch_conv3d.py)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *threads < 0 || *batch < 1 || *reps < 1 {
		fmt.Fprintln(stderr, "bench conv3d: --threads ≥ 0, --batch and --reps ≥ 1")
		return 2
	}
	defer parallel.SetWorkers(parallel.SetWorkers(*threads))
	var shapes []kernels.Conv3dBenchShape
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	all := len(want) == 0
	for _, s := range kernels.R3DConvShapes() {
		if all || want[s.Name] {
			shapes = append(shapes, s)
			delete(want, s.Name)
		}
	}
	for n := range want {
		fmt.Fprintf(stderr, "bench conv3d: unknown shape %q\n", n)
		return 2
	}
	res, err := kernels.BenchConv3d(shapes, kernels.BenchConvOptions{Batch: *batch, MinTime: *minTime, MinReps: *reps})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *asJSON {
		b, _ := json.Marshal(map[string]any{"impl": kernels.Impl(), "layout": "ndhwc", "threads": parallel.Workers(), "batch": *batch, "shapes": res})
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "conv3d forward+backward, batch %d, %s kernels, %d threads\n", *batch, kernels.Impl(), parallel.Workers())
	fmt.Fprintf(stdout, "%-26s %-20s %4s %-8s %9s %9s\n", "name", "in NCTHW", "out", "kernel", "ms", "GFLOP/s")
	for _, r := range res {
		fmt.Fprintf(stdout, "%-26s %-20s %4d %-8s %9.2f %9.1f\n", r.Name, fmt.Sprint(r.In), r.OC, fmt.Sprint(r.Kernel), r.Ms, r.GFLOPS)
	}
	return 0
}
