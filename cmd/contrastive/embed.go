package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/contrastive-ssl/contrastive/train"
)

func init() {
	register("embed", "write an index of embeddings (embeddings.npy, index.csv) of a dataset", runEmbed)
}

// sourceFlags registers --checkpoint and --init, the two ways to name an
// encoder.
func sourceFlags(fs *flag.FlagSet, s *train.Source) {
	fs.StringVar(&s.Checkpoint, "checkpoint", "", "run directory or checkpoint file")
	fs.StringVar(&s.Init, "init", "", "torchvision-format weights (safetensors) instead of a run: the supervised or exported baseline")
}

func runEmbed(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var ec train.EmbedConfig
	sourceFlags(fs, &ec.Source)
	fs.StringVar(&ec.Data, "data", "", "images to embed: PATH[:split] (a folder, .tgz, IDX or CIFAR directory, mnist)")
	fs.StringVar(&ec.Out, "out", "", "index directory to write (embeddings.npy, index.csv, embed.json)")
	fs.StringVar(&ec.Layer, "layer", "pool", "layer1..layer4 (average-pooled stage output), pool (the encoder's feature) or head (the projection head's output)")
	fs.BoolVar(&ec.Normalize, "normalize", false, "store L2-normalised rows")
	fs.IntVar(&ec.Batch, "batch-size", 256, "images per forward pass")
	fs.BoolVar(&ec.SkipBad, "skip-bad", false, "skip unreadable images with a warning")
	quiet := fs.Bool("quiet", false, "no progress line")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "embed: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := ec.Source.Check(); err != nil || ec.Data == "" || ec.Out == "" {
		fmt.Fprintln(stderr, "embed: --data, --out and one of --checkpoint/--init are required")
		return 2
	}
	var progress io.Writer
	if !*quiet && isTerminal(stderr) {
		progress = stderr
	}
	info, err := train.Embed(ec, progress)
	if err != nil {
		fmt.Fprintln(stderr, "embed:", err)
		return 1
	}
	norm := ""
	if info.Normalized {
		norm = ", L2-normalised"
	}
	fmt.Fprintf(stdout, "embedded %d images of %s (%s, %d dims%s) in %.1f s: %s\n", info.N, info.Data, info.Layer, info.Dim, norm, info.Seconds, ec.Out)
	return 0
}
