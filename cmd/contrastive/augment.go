package main

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"io"
	"math/rand/v2"
	"os"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/internal/safetensors"
)

func init() {
	register("augment", "write a PNG grid of augmented views (what the pretext task does)", augmentGrid)
}

// augmentGrid parses the flags of "augment", draws --n images of the
// dataset (a seeded sample), makes their views with the preset through
// augment.ViewGrid and writes the grid as a PNG, atomically.
func augmentGrid(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("augment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ref := fs.String("data", "mnist", "dataset reference PATH[:split] (mnist, an IDX, CIFAR or image folder, or a .tgz)")
	preset := fs.String("preset", "simclr", fmt.Sprintf("augmentation preset: one of %v, optionally with -cifar or -imagenet", augment.PresetNames()))
	n := fs.Int("n", 16, "source images (rows)")
	views := fs.Int("views", 0, "views per source image (0: one set of the preset's views)")
	size := fs.Int("size", 0, "side of the views (0: the images' side when they all have one size, else 224)")
	seed := fs.Uint64("seed", 1, "random seed (images and views)")
	scale := fs.Int("scale", 0, fmt.Sprintf("enlargement factor (0: enough for %d-pixel cells)", augment.ViewGridMinCell))
	out := fs.String("out", "views.png", "output PNG file")
	skipBad := fs.Bool("skip-bad", false, "skip unreadable image files with a warning")
	if err := parseFlags(fs, args, stderr); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "augment: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *n < 1 || *views < 0 || *scale < 0 || *size < 0 {
		fmt.Fprintf(stderr, "augment: --n must be positive and --views, --scale, --size not negative\n")
		return 2
	}
	ds, err := data.Open(*ref, data.OpenOptions{SkipBad: *skipBad, Warn: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "augment: %v\n", err)
		return 1
	}
	h, w, c := ds.Shape()
	side := *size
	if side == 0 {
		side = 224
		if h > 0 && h == w {
			side = h
		}
	}
	mv, err := augment.Preset(*preset, side, c)
	if err != nil {
		fmt.Fprintf(stderr, "augment: %v\n", err)
		return 2
	}
	count := min(*n, ds.Len())
	if count == 0 {
		fmt.Fprintf(stderr, "augment: dataset %s is empty\n", ds.Name())
		return 1
	}
	idx := rand.New(rand.NewPCG(*seed, 0)).Perm(ds.Len())[:count]
	sources := make([]*augment.Image, count)
	for i, j := range idx {
		if sources[i], err = ds.Image(j); err != nil {
			fmt.Fprintf(stderr, "augment: %v\n", err)
			return 1
		}
	}
	grid := augment.ViewGrid(mv, sources, *views, *scale, *seed)
	var buf bytes.Buffer
	if err := png.Encode(&buf, grid); err != nil {
		fmt.Fprintf(stderr, "augment: encode %s: %v\n", *out, err)
		return 1
	}
	if err := safetensors.WriteFileAtomic(*out, buf.Bytes()); err != nil {
		fmt.Fprintf(stderr, "augment: %v\n", err)
		return 1
	}
	if err := os.Chmod(*out, 0o644); err != nil { // the temporary file was 0600
		fmt.Fprintf(stderr, "augment: %v\n", err)
		return 1
	}
	b := grid.Bounds()
	fmt.Fprintf(stdout, "wrote %s: %d rows of a source image and its %s views (%dx%d pixels)\n",
		*out, count, mv.Name, b.Dx(), b.Dy())
	return 0
}
