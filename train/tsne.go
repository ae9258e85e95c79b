package train

import (
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/index"
	"github.com/contrastive-ssl/contrastive/tsne"
	"github.com/contrastive-ssl/contrastive/viz"
)

// TSNEConfig configures TSNE. Either Source and Data (embed a dataset)
// or Index (an index directory's embeddings and labels) is set.
type TSNEConfig struct {
	Source
	Data  string
	Layer string // layer1..layer4 or pool
	Index string
	// Out is the PNG to write; the coordinates go beside it with the
	// extension .csv. With Index and no Out: DIR/tsne.png.
	Out        string
	Limit      int // use at most this many rows, spread evenly (0: all)
	Perplexity float64
	Iterations int
	Seed       uint64
	Batch      int
}

// TSNESummary reports a TSNE run.
type TSNESummary struct {
	PNG, CSV     string
	N, Dim       int
	KL           float64
	EmbedSeconds float64
	TSNESeconds  float64
}

// TSNE maps embeddings to 2-D with Barnes-Hut t-SNE (perplexity 30 by
// default) and writes a scatter plot coloured by class with a legend
// (Out) and the coordinates (Out with .csv: row,x,y,label, row being the
// dataset or index row). Rows are L2-normalised first, so distances
// follow the cosine similarity the methods train.
func TSNE(tc TSNEConfig, log io.Writer) (TSNESummary, error) {
	var sum TSNESummary
	if log == nil {
		log = io.Discard
	}
	if tc.Out == "" && tc.Index != "" {
		tc.Out = filepath.Join(tc.Index, "tsne.png")
	}
	if tc.Out == "" {
		return sum, fmt.Errorf("tsne: no output file")
	}
	sum.PNG = tc.Out
	sum.CSV = strings.TrimSuffix(tc.Out, filepath.Ext(tc.Out)) + ".csv"
	var (
		vec    []float32
		rows   []int
		labels []int
		names  []string
		title  string
	)
	start := time.Now()
	if tc.Index != "" {
		ix, err := index.Open(tc.Index)
		if err != nil {
			return sum, err
		}
		sum.Dim = ix.D
		ids := map[string]int{}
		for _, r := range spread(ix.N, tc.Limit) {
			rows = append(rows, r)
			vec = append(vec, ix.Vectors[r*ix.D:(r+1)*ix.D]...)
			l := -1
			if name := ix.Entries[r].Label; name != "" {
				id, ok := ids[name]
				if !ok {
					id = len(names)
					ids[name] = id
					names = append(names, name)
				}
				l = id
			}
			labels = append(labels, l)
		}
		title = "t-SNE of " + tc.Index
	} else {
		ds, err := data.Open(tc.Data, data.OpenOptions{})
		if err != nil {
			return sum, err
		}
		_, _, c := ds.Shape()
		enc, err := tc.Source.Load(c)
		if err != nil {
			return sum, err
		}
		em, err := enc.Embedder(tc.Layer)
		if err != nil {
			return sum, err
		}
		rows = spread(ds.Len(), tc.Limit)
		sub := rowsOf{ds, rows}
		vec = make([]float32, 0, len(rows)*em.Dim)
		err = embedRows(sub, enc.Prep(enc.EvalSize(ds)), em, tc.Batch, func(i int, row []float32) error {
			vec = append(vec, row...)
			index.Normalize(vec[len(vec)-em.Dim:])
			return nil
		}, nil)
		if err != nil {
			return sum, err
		}
		for _, r := range rows {
			labels = append(labels, ds.Label(r))
		}
		names = ds.ClassNames()
		sum.Dim = em.Dim
		layer := tc.Layer
		if layer == "" {
			layer = "pool"
		}
		title = fmt.Sprintf("t-SNE of %s (%s)", tc.Data, layer)
	}
	sum.N = len(rows)
	sum.EmbedSeconds = time.Since(start).Seconds()
	fmt.Fprintf(log, "t-SNE of %d points of dimension %d (perplexity %g)\n", sum.N, sum.Dim, tc.Perplexity)
	start = time.Now()
	y, err := tsne.Run(vec, sum.N, sum.Dim, tsne.Config{Perplexity: tc.Perplexity, Iterations: tc.Iterations, Seed: tc.Seed,
		Progress: func(it int, kl float64) {
			sum.KL = kl
			if it%250 == 0 {
				fmt.Fprintf(log, "iteration %d: KL %.4f (%.0f s)\n", it, kl, time.Since(start).Seconds())
			}
		}})
	if err != nil {
		return sum, err
	}
	sum.TSNESeconds = time.Since(start).Seconds()
	png, err := viz.Scatter(title, y, labels, names, 7.5, 6)
	if err != nil {
		return sum, err
	}
	if err := viz.WriteFile(sum.PNG, png); err != nil {
		return sum, err
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"row", "x", "y", "label"})
	for i, r := range rows {
		name := ""
		if l := labels[i]; l >= 0 && l < len(names) {
			name = names[l]
		}
		w.Write([]string{strconv.Itoa(r), strconv.FormatFloat(y[i][0], 'f', 4, 64), strconv.FormatFloat(y[i][1], 'f', 4, 64), name})
	}
	w.Flush()
	if err := viz.WriteFile(sum.CSV, []byte(b.String())); err != nil {
		return sum, err
	}
	return sum, nil
}

// spread returns limit row numbers spread evenly over [0, n) (all when
// limit is 0 or ≥ n).
func spread(n, limit int) []int {
	if limit <= 0 || limit >= n {
		limit = n
	}
	out := make([]int, limit)
	for i := range out {
		out[i] = int(int64(i) * int64(n) / int64(limit))
	}
	return out
}

// rowsOf is the dataset restricted to rows, in that order.
type rowsOf struct {
	data.Dataset
	rows []int
}

func (r rowsOf) Len() int                            { return len(r.rows) }
func (r rowsOf) Image(i int) (*augment.Image, error) { return r.Dataset.Image(r.rows[i]) }
func (r rowsOf) Label(i int) int                     { return r.Dataset.Label(r.rows[i]) }
