package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// decodeFromFiles resolves bench augment's --decode for a dataset
// reference: auto means true for a folder of image files.
func decodeFromFiles(flag, ref string) bool {
	switch flag {
	case "true":
		return true
	case "false":
		return false
	}
	st, err := os.Stat(refPath(ref))
	return err == nil && st.IsDir()
}

// refPath is the PATH of a PATH[:split] reference.
func refPath(ref string) string {
	if i := strings.LastIndexByte(ref, ':'); i > 0 {
		if _, err := os.Stat(ref); err != nil {
			return ref[:i]
		}
	}
	return ref
}

// benchDecodeAugment times the data loader over an image folder streamed
// from disk: every image is read from its file, decoded, augmented into
// the preset's views and stacked into batches of 256 by threads workers
// (0: GOMAXPROCS), the work of torchvision's DataLoader over an
// ImageFolder. The files are read once before timing, so the page cache
// holds them for both.
func benchDecodeAugment(ref, preset string, size, threads int, seconds float64, seed uint64, asJSON bool, stdout, stderr io.Writer) int {
	ds, err := data.Open(ref, data.OpenOptions{Warn: stderr, MaxMemory: 1})
	if err == nil {
		warmFiles(refPath(ref))
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench augment: %v\n", err)
		return 1
	}
	_, _, c := ds.Shape()
	mv, err := augment.Preset(preset, size, c)
	if err != nil {
		fmt.Fprintf(stderr, "bench augment: %v\n", err)
		return 2
	}
	const batch = 256
	loader, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: batch, Seed: seed, Shuffle: true, Workers: threads, RawViews: mv.ViewsU8}, mv.Views)
	if err != nil {
		fmt.Fprintf(stderr, "bench augment: %v\n", err)
		return 1
	}
	defer loader.Close()
	next := func() (int, error) {
		b, err := loader.Next()
		if err != nil {
			return 0, err
		}
		for _, v := range b.Views {
			tensor.Put(v)
		}
		return len(b.Indices), nil
	}
	if _, err := next(); err != nil { // warm-up
		fmt.Fprintf(stderr, "bench augment: %v\n", err)
		return 1
	}
	start := time.Now()
	done := 0
	for done == 0 || time.Since(start).Seconds() < seconds {
		n, err := next()
		if err != nil {
			fmt.Fprintf(stderr, "bench augment: %v\n", err)
			return 1
		}
		done += n
	}
	sec := time.Since(start).Seconds()
	workers := threads
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	res := augmentBenchResult{Bench: "augment", Impl: "contrastive-decode", Preset: mv.Name, Size: size,
		Views: len(mv.Pipelines), Images: done, Seconds: sec, ImagesPerSec: float64(done) / sec,
		Workers: workers, Source: ds.Name() + " (decoded from files)"}
	if asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			fmt.Fprintf(stderr, "bench augment: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "decode + augment %s size %d (%d views) on %s, %d workers: %.0f images/s (%d images in %.2f s)\n",
		res.Preset, res.Size, res.Views, res.Source, res.Workers, res.ImagesPerSec, res.Images, res.Seconds)
	return 0
}

// warmFiles reads every file below root once, so that the timed passes
// read from the page cache as the torchvision side does.
func warmFiles(root string) {
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if f, err := os.Open(p); err == nil {
				io.Copy(io.Discard, f)
				f.Close()
			}
		}
		return nil
	})
}
