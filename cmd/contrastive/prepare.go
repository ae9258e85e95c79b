package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/contrastive-ssl/contrastive/data"
)

func init() {
	register("prepare", "write a dataset as pre-resized tar shards (WebDataset layout) plus an index, readable as a dataset", runPrepare)
}

// runPrepare parses the flags of "prepare", opens --data and writes it
// with data.WriteShards, drawing a progress bar on stderr.
func runPrepare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ref := fs.String("data", "", "dataset PATH[:split] to prepare (required)")
	out := fs.String("out", "", "output folder (required); opens as a dataset: --data OUT")
	short := fs.Int("short-side", 256, "resize images whose shorter side is longer to this side (0: keep sizes)")
	format := fs.String("format", "jpeg", "image encoding in the shards: jpeg (quality 95) or raw (PPM/PGM, no loss, no decoding cost)")
	perShard := fs.Int("per-shard", 1000, "images per shard")
	skipBad := fs.Bool("skip-bad", false, "skip unreadable images with a warning")
	maxMem := fs.String("max-memory", "", "decoded pixels held in memory while reading --data (default 4GiB; larger is streamed)")
	maxPixels := fs.Int64("max-pixels", 0, "refuse images whose header claims more pixels (0: PIL's limit, 89478485)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *ref == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "prepare: --data and --out are required, and no other arguments")
		return 2
	}
	if *short < 0 || *perShard < 1 || (*format != "jpeg" && *format != "raw") {
		fmt.Fprintln(stderr, "prepare: --short-side must be >= 0, --per-shard >= 1, --format jpeg or raw")
		return 2
	}
	mem, err := data.ParseSize(*maxMem)
	if err != nil {
		fmt.Fprintln(stderr, "prepare: --max-memory:", err)
		return 2
	}
	ds, err := data.Open(*ref, data.OpenOptions{SkipBad: *skipBad, Warn: stderr, MaxMemory: mem, MaxPixels: *maxPixels})
	if err != nil {
		fmt.Fprintln(stderr, "prepare:", err)
		return 1
	}
	start := time.Now()
	bar := func(done, total int) {
		const width = 30
		fill := width * done / total
		el := time.Since(start).Seconds()
		fmt.Fprintf(stderr, "\rprepare: [%-*s] %d/%d images, %.0f/s", width, string(repeat('#', fill)), done, total, float64(done)/max(el, 1e-9))
	}
	err = data.WriteShards(ds, *out, data.ShardOptions{ShortSide: *short, Format: *format, PerShard: *perShard, Progress: bar})
	fmt.Fprintln(stderr)
	if err != nil {
		fmt.Fprintln(stderr, "prepare:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %d images of %s to %s in %.1f s (open it with --data %s)\n", ds.Len(), ds.Name(), *out, time.Since(start).Seconds(), *out)
	return 0
}

func repeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}
