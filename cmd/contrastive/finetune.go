package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/contrastive-ssl/contrastive/train"
)

func init() {
	register("eval finetune", "fine-tune the whole encoder on 1%/10%/100% of the labels (semi-supervised protocol)", runFinetune)
}

func runFinetune(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval finetune", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var fc train.FinetuneConfig
	sourceFlags(fs, &fc.Source)
	fs.StringVar(&fc.Train, "train", "", "labelled training data PATH[:split] (required)")
	fs.StringVar(&fc.Test, "test", "", "labelled test data PATH[:split] (required)")
	fs.StringVar(&fc.Labels, "labels", "10%", "share of the training labels used, class-balanced: 1%, 10%, 100% (any percentage)")
	fs.StringVar(&fc.Out, "out", "", "directory for finetune-P.json and the label subset labels-P.csv (required)")
	fs.IntVar(&fc.Epochs, "epochs", 30, "fine-tuning epochs over the labelled subset")
	fs.IntVar(&fc.MaxSteps, "max-steps", 0, "stop after N steps (0: no limit)")
	fs.IntVar(&fc.BatchSize, "batch-size", 128, "images per step")
	fs.Float64Var(&fc.LR, "lr", 0.05, "peak learning rate (encoder and new linear head): linear warm-up over the first 10% of the steps, then cosine to 0")
	fs.Uint64Var(&fc.Seed, "seed", 1, "seed of the label subset, the head and the training order")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "eval finetune: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if fc.Source.Check() != nil || fc.Train == "" || fc.Test == "" || fc.Out == "" {
		fmt.Fprintln(stderr, "eval finetune: --train, --test, --out and one of --checkpoint/--init are required")
		return 2
	}
	if _, err := train.ParsePercent(fc.Labels); err != nil {
		fmt.Fprintln(stderr, "eval finetune:", err)
		return 2
	}
	if fc.Epochs < 1 || fc.BatchSize < 1 || !(fc.LR > 0) {
		fmt.Fprintln(stderr, "eval finetune: --epochs, --batch-size and --lr must be positive")
		return 2
	}
	var log io.Writer = stderr
	if *jsonOut {
		log = nil
	}
	sum, err := train.Finetune(fc, log)
	if err != nil {
		fmt.Fprintln(stderr, "eval finetune:", err)
		return 1
	}
	if *jsonOut {
		b, _ := json.Marshal(sum)
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "finetune %s of the labels (%d images, %d steps, %.0f s): top-1 %.2f%%  top-5 %.2f%%; subset %s\n",
		fc.Labels, sum.Images, sum.Steps, sum.Seconds, 100*sum.Top1, 100*sum.Top5, sum.SubsetFile)
	return 0
}
