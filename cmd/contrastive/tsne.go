package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/contrastive-ssl/contrastive/train"
)

func init() {
	register("eval tsne", "2-D t-SNE map of embeddings (PNG coloured by class + CSV)", runTSNE)
}

func runTSNE(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval tsne", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var tc train.TSNEConfig
	sourceFlags(fs, &tc.Source)
	fs.StringVar(&tc.Data, "data", "", "images to map: PATH[:split] (with --checkpoint/--init)")
	fs.StringVar(&tc.Index, "index", "", "map an index directory's embeddings instead (writes DIR/tsne.png and DIR/tsne.csv unless --out)")
	fs.StringVar(&tc.Layer, "layer", "pool", "features: layer1..layer4 or pool")
	fs.StringVar(&tc.Out, "out", "", "PNG to write; the coordinates go to the same name with .csv (row,x,y,label)")
	fs.IntVar(&tc.Limit, "limit", 0, "map at most N rows, spread evenly (0: all)")
	fs.Float64Var(&tc.Perplexity, "perplexity", 30, "t-SNE perplexity")
	fs.IntVar(&tc.Iterations, "iterations", 1000, "gradient-descent iterations")
	fs.Uint64Var(&tc.Seed, "seed", 1, "seed of the initial map")
	fs.IntVar(&tc.Batch, "batch-size", 256, "feature extraction batch size")
	jsonOut := fs.Bool("json", false, "print the summary as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "eval tsne: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	hasSource := tc.Checkpoint != "" || tc.Init != ""
	switch {
	case tc.Index != "" && (hasSource || tc.Data != ""):
		fmt.Fprintln(stderr, "eval tsne: --index excludes --checkpoint, --init and --data")
		return 2
	case tc.Index == "" && (tc.Source.Check() != nil || tc.Data == "" || tc.Out == ""):
		fmt.Fprintln(stderr, "eval tsne: give --index DIR, or --data, --out and one of --checkpoint/--init")
		return 2
	}
	log := stderr
	if *jsonOut {
		log = nil
	}
	sum, err := train.TSNE(tc, log)
	if err != nil {
		fmt.Fprintln(stderr, "eval tsne:", err)
		return 1
	}
	if *jsonOut {
		b, _ := json.Marshal(sum)
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "t-SNE of %d points (%d dims): KL %.4f, features %.1f s, t-SNE %.1f s; wrote %s and %s\n",
		sum.N, sum.Dim, sum.KL, sum.EmbedSeconds, sum.TSNESeconds, sum.PNG, sum.CSV)
	return 0
}
