package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"

	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/videomodels"
)

func init() {
	register("model summary", "list an encoder's tensors, parameter count and feature size", modelSummary)
}

// modelSummary parses the flags of "model summary", builds the encoder and
// prints models.Summarize as JSON (--json) or a table.
func modelSummary(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("model summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	arch := fs.String("arch", "resnet50", "encoder: "+strings.Join(append(models.Archs(), videomodels.Archs()...), ", "))
	stem := fs.String("stem", models.StemImageNet, "stem: imagenet (7×7/2 conv + max pool) or cifar (3×3/1 conv)")
	inCh := fs.Int("in-channels", 3, "input channels (1 for MNIST)")
	width := fs.Float64("width", 1, "width multiplier: base width max(1, round(64·width))")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args, stderr); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "model summary: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if videomodels.IsArch(*arch) {
		return videoSummary(videomodels.Config{Arch: *arch, InChannels: *inCh, Width: *width}, *asJSON, stdout, stderr)
	}
	cfg := models.Config{Arch: *arch, Stem: *stem, InChannels: *inCh, Width: *width}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "model summary: %v\n", err)
		return 2
	}
	r, err := models.NewResNet(cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		fmt.Fprintf(stderr, "model summary: %v\n", err)
		return 2
	}
	s := models.Summarize(r)
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(s); err != nil {
			fmt.Fprintf(stderr, "model summary: %v\n", err)
			return 1
		}
		return 0
	}
	for _, t := range s.Tensors {
		fmt.Fprintf(stdout, "%-40s %v\n", t.Name, t.Shape)
	}
	fmt.Fprintf(stdout, "%s (stem %s, %d input channels, width %g): %d parameters, %d running-statistics values, feature dim %d\n",
		s.Arch, s.Stem, s.InChannels, s.Width, s.Params, s.Buffers, s.FeatureDim)
	return 0
}
