package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/contrastive-ssl/contrastive/internal/benchstep"
	"github.com/contrastive-ssl/contrastive/models"
)

func init() {
	register("bench embed", "time evaluation-mode forward passes (batch norm folded into the convolutions) in images/s", benchEmbed)
}

// benchEmbed parses the flags of "bench embed", runs benchstep.RunEmbed
// and prints its result as one JSON object (--json) or one line.
func benchEmbed(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c benchstep.EmbedConfig
	fs.StringVar(&c.Arch, "arch", "resnet50", "encoder: "+strings.Join(models.Archs(), ", "))
	fs.StringVar(&c.Stem, "stem", models.StemImageNet, "stem: imagenet or cifar")
	fs.Float64Var(&c.Width, "width", 1, "width multiplier")
	fs.IntVar(&c.Size, "size", 224, "image height and width")
	fs.IntVar(&c.Batch, "batch", 16, "images per forward pass")
	fs.IntVar(&c.Batches, "batches", 5, "timed forward passes")
	fs.IntVar(&c.Warmup, "warmup", 1, "untimed forward passes before timing")
	fs.IntVar(&c.Threads, "threads", 0, "worker goroutines (0: GOMAXPROCS)")
	fs.BoolVar(&c.Unfolded, "unfolded", false, "also time the autograd evaluation-mode forward (unfolded batch norm) on the same input")
	fs.IntVar(&c.GemmSize, "gemm", 2048, "side of the SGEMM timed in the same run for sgemm_gflops (≤ 0: none)")
	fs.StringVar(&c.CPUProfile, "profile", "", "write a pprof CPU profile of the timed folded passes to this file")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args, stderr); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench embed: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if c.GemmSize <= 0 {
		c.GemmSize = -1
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		fmt.Fprintf(stderr, "bench embed: %v\n", err)
		return 2
	}
	res, err := benchstep.RunEmbed(c)
	if err != nil {
		fmt.Fprintf(stderr, "bench embed: %v\n", err)
		return 1
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			fmt.Fprintf(stderr, "bench embed: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "%s %s %dpx batch %d, %d threads, %s: %.2f images/s (batch %.1f ms, min %.1f), %.1f GFLOP/s effective (%.2f GFLOP/image)",
		res.Arch, res.Stem, res.Size, res.Batch, res.Threads, res.Impl, res.ImagesPerSec, res.BatchMS, res.BatchMSMin, res.GFLOPSEffective, res.GFLOPPerImage)
	if res.SgemmGFLOPS > 0 {
		fmt.Fprintf(stdout, ", %.0f%% of SGEMM's %.1f GFLOP/s", 100*res.SgemmFraction, res.SgemmGFLOPS)
	}
	if res.UnfoldedPerSec > 0 {
		fmt.Fprintf(stdout, "; unfolded autograd forward %.2f images/s (max relative difference %.2g)", res.UnfoldedPerSec, res.UnfoldedMaxError)
	}
	fmt.Fprintln(stdout)
	return 0
}
