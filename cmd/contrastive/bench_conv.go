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
	register("bench conv", "time conv forward+backward on ResNet-18 CIFAR shapes", benchConv)
}

// convBenchReport is the JSON printed by "bench conv --json"; the fields
// match bench/torch_conv.py.
type convBenchReport struct {
	Impl    string                    `json:"impl"`
	Layout  string                    `json:"layout"`
	Threads int                       `json:"threads"`
	Batch   int                       `json:"batch"`
	Shapes  []kernels.ConvBenchResult `json:"shapes"`
}

func benchConv(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench conv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	batch := fs.Int("batch", 64, "batch size")
	minTime := fs.Duration("min-time", time.Second, "minimum timing per shape")
	reps := fs.Int("reps", 3, "minimum repetitions per shape")
	only := fs.String("shapes", "", "comma-separated shape names to run (default: all)")
	threads := fs.Int("threads", 0, "worker goroutines (0: GOMAXPROCS)")
	net := fs.String("net", "resnet18-cifar", "convolutions of resnet18-cifar (32 px) or resnet50-imagenet (224 px)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := parseFlags(fs, args, stderr); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench conv: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *threads < 0 {
		fmt.Fprintf(stderr, "bench conv: --threads %d must be ≥ 0\n", *threads)
		return 1
	}
	defer parallel.SetWorkers(parallel.SetWorkers(*threads))
	var shapes []kernels.ConvBenchShape
	switch *net {
	case "resnet18-cifar":
		shapes = kernels.ResNet18CIFARConvShapes()
	case "resnet50-imagenet":
		shapes = kernels.ResNet50ImageNetConvShapes()
	default:
		fmt.Fprintf(stderr, "bench conv: --net %q, want resnet18-cifar or resnet50-imagenet\n", *net)
		return 2
	}
	if *only != "" {
		want := map[string]bool{}
		for _, n := range strings.Split(*only, ",") {
			want[strings.TrimSpace(n)] = true
		}
		var sel []kernels.ConvBenchShape
		for _, s := range shapes {
			if want[s.Name] {
				sel = append(sel, s)
				delete(want, s.Name)
			}
		}
		for n := range want {
			fmt.Fprintf(stderr, "bench conv: unknown shape %q\n", n)
			return 2
		}
		shapes = sel
	}
	res, err := kernels.BenchConv(shapes, kernels.BenchConvOptions{Batch: *batch, MinTime: *minTime, MinReps: *reps})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	rep := convBenchReport{Impl: kernels.Impl(), Layout: "nhwc", Threads: parallel.Workers(), Batch: *batch, Shapes: res}
	if *asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "conv forward+backward, batch %d, %s kernels, %d threads\n", rep.Batch, rep.Impl, rep.Threads)
	fmt.Fprintf(stdout, "%-22s %-18s %4s %3s %3s %9s %9s\n", "name", "in NCHW", "out", "k", "s", "ms", "GFLOP/s")
	for _, r := range res {
		fmt.Fprintf(stdout, "%-22s %-18s %4d %3d %3d %9.2f %9.1f\n", r.Name, fmt.Sprint(r.In), r.OutChannels, r.Kernel, r.Stride, r.Ms, r.GFLOPS)
	}
	return 0
}
