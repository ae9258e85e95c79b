package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/train"
)

func init() {
	register("eval knn", "weighted kNN accuracy of a checkpoint's frozen features", func(a []string, o, e io.Writer) int { return runEval(train.EvalKNN, a, o, e) })
	register("eval linear", "linear-probe accuracy of a checkpoint's frozen features", func(a []string, o, e io.Writer) int { return runEval(train.EvalLinear, a, o, e) })
}

func runEval(kind train.EvalKind, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval "+string(kind), flag.ContinueOnError)
	fs.SetOutput(stderr)
	ec := train.EvalConfig{Kind: kind}
	fs.StringVar(&ec.Checkpoint, "checkpoint", "", "run directory or checkpoint file")
	fs.StringVar(&ec.Init, "init", "", "torchvision-format weights (safetensors) instead of a run: the supervised or exported baseline")
	fs.StringVar(&ec.Layer, "layer", "pool", "features: layer1..layer4 (average-pooled stage output, the survey's res2-res5) or pool; a comma-separated list evaluates each from one feature pass")
	fs.StringVar(&ec.Train, "train", "", "labelled training data PATH[:split] (required)")
	fs.StringVar(&ec.Test, "test", "", "labelled test data PATH[:split] (required)")
	fs.IntVar(&ec.K, "k", 200, "kNN neighbours")
	fs.Float64Var(&ec.Temperature, "temperature", 0.07, "kNN weight temperature")
	fs.IntVar(&ec.Epochs, "epochs", 100, "linear probe epochs")
	fs.IntVar(&ec.Batch, "batch-size", 256, "feature extraction batch size")
	fs.Uint64Var(&ec.Seed, "seed", 1, "linear probe seed")
	fs.IntVar(&ec.ImageSize, "image-size", 0, "evaluate at NxN: Resize(round(N/0.875)) + CenterCrop(N) (0: the checkpoint's training size)")
	maxMem := fs.String("max-memory", "", "decoded pixels held in memory per dataset, e.g. 512MiB (default 4GiB)")
	fs.Int64Var(&ec.Open.MaxPixels, "max-pixels", 0, "refuse images whose header claims more pixels (0: PIL's limit, 89478485)")
	jsonOut := fs.Bool("json", false, "print {\"top1\": ..., \"top5\": ...}")
	if err := parseFlags(fs, args, stderr); err != nil {
		return 2
	}
	if (ec.Checkpoint == "") == (ec.Init == "") || ec.Train == "" || ec.Test == "" {
		fmt.Fprintln(stderr, "eval: --train, --test and one of --checkpoint/--init are required")
		return 2
	}
	var err error
	if ec.Open.MaxMemory, err = data.ParseSize(*maxMem); err != nil {
		fmt.Fprintln(stderr, "eval: --max-memory:", err)
		return 2
	}
	layers := strings.Split(ec.Layer, ",")
	results, err := train.EvaluateLayers(ec, layers)
	if err != nil {
		fmt.Fprintln(stderr, "eval:", err)
		return 1
	}
	if *jsonOut {
		var b []byte
		if len(layers) == 1 {
			b, _ = json.Marshal(results[0])
		} else {
			type row struct {
				Layer string  `json:"layer"`
				Top1  float64 `json:"top1"`
				Top5  float64 `json:"top5"`
			}
			rows := make([]row, len(layers))
			for i, r := range results {
				rows[i] = row{layers[i], r.Top1, r.Top5}
			}
			b, _ = json.Marshal(rows)
		}
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	for i, res := range results {
		layer := ""
		if l := layers[i]; l != "" && l != "pool" {
			layer = " (" + l + ")"
		}
		fmt.Fprintf(stdout, "%s%s: top-1 %.2f%%  top-5 %.2f%%\n", kind, layer, 100*res.Top1, 100*res.Top5)
	}
	return 0
}
