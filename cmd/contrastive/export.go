package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/contrastive-ssl/contrastive/export"
	"github.com/contrastive-ssl/contrastive/train"
)

func init() {
	register("export", "write a run's encoder as torchvision safetensors or an ONNX model", runExport)
}

func runExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var src train.Source
	sourceFlags(fs, &src)
	format := fs.String("format", "torchvision", "torchvision (safetensors under torchvision's names) or onnx (ModelProto, IR 8, opset 13)")
	out := fs.String("out", "", "output file (required)")
	channels := fs.Int("in-channels", 3, "input channels of the encoder (1 for MNIST runs)")
	ref := fs.String("reference", "", "also write a check file: a random NCHW batch and the Go features on it (for tools/check_torchvision.py)")
	refSize := fs.Int("reference-size", 32, "image side of the --reference batch")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "export: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := src.Check(); err != nil || *out == "" {
		fmt.Fprintln(stderr, "export: --out and one of --checkpoint/--init are required")
		return 2
	}
	if *format != "torchvision" && *format != "onnx" {
		fmt.Fprintf(stderr, "export: --format %q: want torchvision or onnx\n", *format)
		return 2
	}
	enc, err := src.Load(*channels)
	if err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return 1
	}
	if *format == "onnx" {
		err = export.WriteONNX(*out, enc.ResNet, enc.Mean, enc.Std)
	} else {
		err = export.WriteTorchvision(*out, enc.ResNet, enc.Mean, enc.Std)
	}
	if err != nil {
		fmt.Fprintln(stderr, "export:", err)
		return 1
	}
	c := enc.Config()
	fmt.Fprintf(stdout, "wrote %s: %s %s (stem %s, width %g, %d input channels, %d-d features", *out, *format, c.Arch, c.Stem, c.Width, c.InChannels, c.FeatureDim())
	if enc.Mean != nil {
		fmt.Fprintf(stdout, "; inputs normalised with mean %v std %v", enc.Mean, enc.Std)
	}
	fmt.Fprintln(stdout, ")")
	if *ref != "" {
		if err := export.WriteReference(*ref, enc.ResNet, 4, *refSize, 1); err != nil {
			fmt.Fprintln(stderr, "export:", err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s: 4 random %dx%d inputs and their features\n", *ref, *refSize, *refSize)
	}
	return 0
}
