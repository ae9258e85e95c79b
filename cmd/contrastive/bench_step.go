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
	register("bench step", "time one SimCLR training step (encoder, MLP head, NT-Xent, backward, SGD)", benchStep)
}

// benchStep parses the flags of "bench step", runs benchstep.Run and prints
// its result as one JSON object (--json) or a per-stage table.
func benchStep(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench step", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c benchstep.Config
	fs.StringVar(&c.Arch, "arch", "resnet18", "encoder: "+strings.Join(models.Archs(), ", "))
	fs.StringVar(&c.Stem, "stem", models.StemCIFAR, "stem: imagenet or cifar")
	fs.Float64Var(&c.Width, "width", 1, "width multiplier")
	fs.IntVar(&c.Size, "size", 32, "image height and width")
	fs.IntVar(&c.Batch, "batch", 64, "images per step (each in two views, so 2·batch through the encoder)")
	fs.IntVar(&c.Steps, "steps", 5, "timed steps")
	fs.IntVar(&c.Warmup, "warmup", 1, "untimed steps before timing")
	fs.IntVar(&c.Threads, "threads", 0, "worker goroutines (0: GOMAXPROCS)")
	fs.StringVar(&c.CPUProfile, "profile", "", "write a pprof CPU profile of the timed steps to this file")
	crops := fs.String("crops", "", "multi-crop views instead of two --size views: COUNTxSIZE groups, e.g. 2x32,6x16 (SwAV's CIFAR multi-crop); 2x32 is the 2-crop step on the same code path")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args, stderr); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench step: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *crops != "" {
		cs, err := benchstep.ParseCrops(*crops)
		if err != nil {
			fmt.Fprintf(stderr, "bench step: %v\n", err)
			return 2
		}
		c.Crops = cs
	}
	c.Defaults()
	if err := c.Validate(); err != nil {
		fmt.Fprintf(stderr, "bench step: %v\n", err)
		return 2
	}
	res, err := benchstep.Run(c)
	if err != nil {
		fmt.Fprintf(stderr, "bench step: %v\n", err)
		return 1
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			fmt.Fprintf(stderr, "bench step: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "%-10s %10s %10s\n", "stage", "fwd ms", "bwd ms")
	for _, s := range res.Split {
		fmt.Fprintf(stdout, "%-10s %10.1f %10.1f\n", s.Stage, s.ForwardMS, s.BackwardMS)
	}
	if res.Crops != "" {
		fmt.Fprintf(stdout, "crops %s (%.2fx the pixels of 2 views): forward %.1f ms (per group %.1f), backward %.1f ms\n",
			res.Crops, res.PixelRatio, res.ForwardMS, res.GroupFwdMS, res.BackwardMS)
	}
	fmt.Fprintf(stdout, "%s %s batch %d (x2 views), %d threads, %s: %.1f images/s, step %.1f ms (min %.1f; optimizer %.1f), %.0f allocs/step, loss %v\n",
		res.Arch, res.Stem, res.Batch, res.Threads, res.Impl, res.ImagesPerSec, res.StepMS, res.StepMSMin, res.OptimizerMS, res.AllocsPerStep, res.Loss)
	return 0
}
