package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

func init() {
	register("bench augment", "time a preset's views on all cores in images/s", benchAugment)
}

// augmentBenchResult is the JSON of "bench augment"; bench/torch_augment.py
// prints the same fields for torchvision.
type augmentBenchResult struct {
	Bench        string  `json:"bench"`
	Impl         string  `json:"impl"`
	Preset       string  `json:"preset"`
	Size         int     `json:"size"`
	Views        int     `json:"views"`
	Images       int     `json:"images"`
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_sec"`
	Workers      int     `json:"workers"`
	Source       string  `json:"source"`
}

// benchAugment parses the flags of "bench augment", loads (or synthesises)
// the source images, runs augment.Throughput and prints the result.
func benchAugment(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench augment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	preset := fs.String("preset", "simclr", fmt.Sprintf("augmentation preset, one of %v", augment.PresetNames()))
	ref := fs.String("data", "", "dataset reference PATH[:split] (default: noise images, size×size for size <= 64, else 500×375)")
	size := fs.Int("size", 32, "side of the views")
	n := fs.Int("n", 0, "source images held in memory (0: 2048 for size <= 64, else 64)")
	seconds := fs.Float64("seconds", 3, "minimum measuring time")
	threads := fs.Int("threads", 0, "worker goroutines (0: GOMAXPROCS)")
	seed := fs.Uint64("seed", 1, "random seed")
	decode := fs.String("decode", "auto", "with --data: true times decoding too (each image is read and decoded from its file on every use by the data loader's workers, as torchvision's ImageFolder does); false decodes once up front; auto: true for an image folder")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a pprof CPU profile of the measurement to this file")
	if err := parseFlags(fs, args, stderr); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench augment: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *size < 8 || *n < 0 || *seconds < 0 || *threads < 0 {
		fmt.Fprintf(stderr, "bench augment: --size must be at least 8 and --n, --seconds, --threads not negative\n")
		return 2
	}
	count := *n
	if count == 0 {
		count = 2048
		if *size > augment.SmallMaxSize {
			count = 64
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "bench augment: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "bench augment: cpu profile %s: %v\n", *cpuProfile, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if *ref != "" && decodeFromFiles(*decode, *ref) {
		return benchDecodeAugment(*ref, *preset, *size, *threads, *seconds, *seed, *asJSON, stdout, stderr)
	}
	var src []*augment.Image
	var source string
	channels := 3
	if *ref == "" {
		h, w := *size, *size
		if *size > augment.SmallMaxSize {
			h, w = 375, 500
		}
		src = augment.NoiseImages(count, h, w, 3, *seed)
		source = fmt.Sprintf("noise %dx%d", w, h)
	} else {
		ds, err := data.Open(*ref, data.OpenOptions{Warn: stderr})
		if err != nil {
			fmt.Fprintf(stderr, "bench augment: %v\n", err)
			return 1
		}
		_, _, channels = ds.Shape()
		count = min(count, ds.Len())
		for i := range count {
			img, err := ds.Image(i)
			if err != nil {
				fmt.Fprintf(stderr, "bench augment: %v\n", err)
				return 1
			}
			src = append(src, img)
		}
		if len(src) == 0 {
			fmt.Fprintf(stderr, "bench augment: dataset %s is empty\n", ds.Name())
			return 1
		}
		source = ds.Name()
	}
	mv, err := augment.Preset(*preset, *size, channels)
	if err != nil {
		fmt.Fprintf(stderr, "bench augment: %v\n", err)
		return 2
	}
	if *threads > 0 {
		defer parallel.SetWorkers(parallel.SetWorkers(*threads))
	}
	augment.Throughput(mv, src[:min(len(src), augment.BenchBatch)], 0, *seed) // warm-up
	r := augment.Throughput(mv, src, time.Duration(*seconds*float64(time.Second)), *seed)
	res := augmentBenchResult{Bench: "augment", Impl: "contrastive", Preset: mv.Name, Size: *size,
		Views: r.Views, Images: r.Images, Seconds: r.Seconds, ImagesPerSec: r.ImagesPerSec,
		Workers: r.Workers, Source: source}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			fmt.Fprintf(stderr, "bench augment: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "augment %s size %d (%d views) on %s, %d workers: %.0f images/s (%d images in %.2f s)\n",
		res.Preset, res.Size, res.Views, res.Source, res.Workers, res.ImagesPerSec, res.Images, res.Seconds)
	return 0
}
