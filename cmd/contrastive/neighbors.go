package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg" // --query decoders
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/index"
	"github.com/contrastive-ssl/contrastive/train"
	"github.com/contrastive-ssl/contrastive/viz"
)

func init() {
	register("neighbors", "nearest neighbours of images in an index (PNG grid), or near-duplicate pairs (CSV)", runNeighbors)
}

func runNeighbors(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("neighbors", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("index", "", "index directory written by `contrastive embed` (required)")
	query := fs.String("query", "", "image file (PNG or JPEG) to look up, embedded like the index")
	rows := fs.String("row", "", "index rows to look up, comma-separated (e.g. 0,17,42)")
	k := fs.Int("k", 8, "neighbours per query")
	out := fs.String("out", "", "output: the PNG grid, or with --duplicates the CSV of pairs (required)")
	dups := fs.Bool("duplicates", false, "list every pair of rows with cosine similarity ≥ --threshold instead")
	threshold := fs.Float64("threshold", 0.95, "cosine similarity of a near-duplicate pair")
	dataRef := fs.String("data", "", "where the index's images are (default: the dataset recorded in embed.json)")
	side := fs.Int("cell", 96, "side of each picture in the grid, in pixels")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "neighbors: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *dir == "" || *out == "" {
		fmt.Fprintln(stderr, "neighbors: --index and --out are required")
		return 2
	}
	if !*dups && (*query == "") == (*rows == "") {
		fmt.Fprintln(stderr, "neighbors: give --query IMAGE or --row N[,N...] (or --duplicates)")
		return 2
	}
	if *k < 1 || *side < 8 {
		fmt.Fprintln(stderr, "neighbors: --k must be ≥ 1 and --cell ≥ 8")
		return 2
	}
	ix, err := index.Open(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "neighbors:", err)
		return 1
	}
	if *dups {
		pairs := ix.Duplicates(float32(*threshold))
		if err := writePairs(*out, ix, pairs); err != nil {
			fmt.Fprintln(stderr, "neighbors:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%d pairs with cosine similarity ≥ %g among %d rows: %s\n", len(pairs), *threshold, ix.N, *out)
		return 0
	}
	var ds data.Dataset
	if ref := *dataRef; ref != "" || fileExists(filepath.Join(*dir, train.EmbedInfoFile)) {
		if ref == "" {
			info, err := train.ReadEmbedInfo(*dir)
			if err != nil {
				fmt.Fprintln(stderr, "neighbors:", err)
				return 1
			}
			ref = info.Data
		}
		if ds, err = data.Open(ref, data.OpenOptions{}); err != nil {
			fmt.Fprintln(stderr, "neighbors:", err)
			return 1
		}
		if ds.Len() != ix.N {
			fmt.Fprintf(stderr, "neighbors: %s has %d images, the index %d rows: not the data it was built from\n", ref, ds.Len(), ix.N)
			return 1
		}
	}
	var qvec []float32
	var qimgs []*augment.Image
	var qnames []string
	var skip func(q, row int) bool
	if *query != "" {
		info, err := train.ReadEmbedInfo(*dir)
		if err != nil {
			fmt.Fprintln(stderr, "neighbors: --query needs the encoder recorded by `contrastive embed`:", err)
			return 1
		}
		img, err := readImage(*query, info.Channels)
		if err != nil {
			fmt.Fprintln(stderr, "neighbors:", err)
			return 1
		}
		if qvec, err = train.EmbedImage(*dir, img); err != nil {
			fmt.Fprintln(stderr, "neighbors:", err)
			return 1
		}
		qimgs, qnames = append(qimgs, img), append(qnames, filepath.Base(*query))
	} else {
		var qrows []int
		for _, f := range strings.Split(*rows, ",") {
			r, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || r < 0 || r >= ix.N {
				fmt.Fprintf(stderr, "neighbors: --row %q: want row numbers in [0, %d)\n", f, ix.N)
				return 2
			}
			qrows = append(qrows, r)
			qvec = append(qvec, ix.Vectors[r*ix.D:(r+1)*ix.D]...)
			qnames = append(qnames, "row "+strconv.Itoa(r))
			qimgs = append(qimgs, rowImage(ds, r, stderr))
		}
		skip = func(q, row int) bool { return row == qrows[q] }
	}
	hits, err := ix.Search(qvec, len(qnames), *k, skip)
	if err != nil {
		fmt.Fprintln(stderr, "neighbors:", err)
		return 1
	}
	var grid [][]viz.Cell
	for q, hs := range hits {
		row := []viz.Cell{{Image: qimgs[q], Caption: [2]string{"query", qnames[q]}}}
		fmt.Fprintf(stdout, "%s:", qnames[q])
		for _, h := range hs {
			e := ix.Entries[h.Row]
			row = append(row, viz.Cell{Image: rowImage(ds, h.Row, stderr), Caption: [2]string{fmt.Sprintf("%.3f", h.Score), e.Label}})
			fmt.Fprintf(stdout, " %d (%.3f %s)", h.Row, h.Score, e.Label)
		}
		fmt.Fprintln(stdout)
		grid = append(grid, row)
	}
	if err := viz.WritePNG(*out, viz.NeighborGrid(grid, *side)); err != nil {
		fmt.Fprintln(stderr, "neighbors:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return 0
}

// rowImage is image row of ds, or nil (an empty cell, with a warning)
// when the images are not available.
func rowImage(ds data.Dataset, row int, stderr io.Writer) *augment.Image {
	if ds == nil {
		return nil
	}
	img, err := ds.Image(row)
	if err != nil {
		fmt.Fprintln(stderr, "neighbors: warning:", err)
		return nil
	}
	return img
}

// readImage decodes a PNG or JPEG file into channels (1: luma, 3: RGB)
// with values in [0, 1].
func readImage(path string, channels int) (*augment.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b := src.Bounds()
	img := augment.NewImage(b.Dy(), b.Dx(), channels)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, g, bl, _ := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
			p := img.Pix[(y*img.W+x)*channels:]
			if channels == 1 {
				p[0] = (0.299*float32(r) + 0.587*float32(g) + 0.114*float32(bl)) / 65535
			} else {
				p[0], p[1], p[2] = float32(r)/65535, float32(g)/65535, float32(bl)/65535
			}
		}
	}
	return img, nil
}

// writePairs writes near-duplicate pairs as CSV (a,b,score,path_a,path_b)
// atomically.
func writePairs(path string, ix *index.Index, pairs []index.Pair) error {
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	w.Write([]string{"a", "b", "score", "path_a", "path_b"})
	for _, p := range pairs {
		w.Write([]string{strconv.Itoa(p.A), strconv.Itoa(p.B), strconv.FormatFloat(float64(p.Score), 'f', 6, 32), ix.Entries[p.A].Path, ix.Entries[p.B].Path})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return viz.WriteFile(path, []byte(sb.String()))
}
