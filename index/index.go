// Package index stores and searches a collection's embeddings: a directory
// holding embeddings.npy (float32 N×D in NumPy's format) and index.csv
// (row,path,label), as written by `contrastive embed` and read by
// `contrastive neighbors` and `contrastive serve`. Search is exact cosine
// similarity through the project's SGEMM, queries in batches.
package index

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/contrastive-ssl/contrastive/internal/npy"
	"github.com/contrastive-ssl/contrastive/internal/parallel"
	"github.com/contrastive-ssl/contrastive/kernels"
)

// File names inside an index directory.
const (
	EmbeddingsFile = "embeddings.npy"
	RowsFile       = "index.csv"
)

// Entry describes one row of the index: where the image came from (a path
// relative to the dataset root, or a member of an archive) and its label
// ("" when the data is unlabelled).
type Entry struct {
	Path  string
	Label string
}

// Writer streams rows into a new index directory. Nothing under the final
// names exists until Close succeeds.
type Writer struct {
	dir       string
	dim       int
	normalize bool
	emb       *npy.Writer
	rowsTmp   *os.File
	csv       *csv.Writer
	n         int
	scratch   []float32
}

// Create starts an index of dim-dimensional vectors in dir (created if
// needed). With normalize, every vector is scaled to unit length before
// it is stored.
func Create(dir string, dim int, normalize bool) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	emb, err := npy.Create(filepath.Join(dir, EmbeddingsFile), dim)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+RowsFile+".tmp*")
	if err != nil {
		emb.Abort()
		return nil, fmt.Errorf("index: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		emb.Abort()
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("index: %w", err)
	}
	w := &Writer{dir: dir, dim: dim, normalize: normalize, emb: emb, rowsTmp: f, csv: csv.NewWriter(f)}
	if err := w.csv.Write([]string{"row", "path", "label"}); err != nil {
		w.Abort()
		return nil, fmt.Errorf("index: %w", err)
	}
	return w, nil
}

// Add appends one vector (len dim) and its entry.
func (w *Writer) Add(vec []float32, e Entry) error {
	if len(vec) != w.dim {
		return fmt.Errorf("index: vector of %d values, the index holds %d", len(vec), w.dim)
	}
	if err := checkEntry(e); err != nil {
		return fmt.Errorf("index: row %d: %w", w.n, err)
	}
	if w.normalize {
		w.scratch = append(w.scratch[:0], vec...)
		Normalize(w.scratch)
		vec = w.scratch
	}
	if err := w.emb.Write(vec); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err := w.csv.Write([]string{strconv.Itoa(w.n), e.Path, e.Label}); err != nil {
		return fmt.Errorf("index: %s: %w", filepath.Join(w.dir, RowsFile), err)
	}
	w.n++
	return nil
}

// checkEntry refuses what index.csv cannot hold: a CR LF pair, which a
// CSV reader turns into LF (found by FuzzParseRows).
func checkEntry(e Entry) error {
	for _, f := range []struct{ name, v string }{{"path", e.Path}, {"label", e.Label}} {
		if strings.Contains(f.v, "\r\n") {
			return fmt.Errorf("%s %q holds a CR LF pair, which index.csv cannot keep", f.name, f.v)
		}
	}
	return nil
}

// Len is the number of rows added so far.
func (w *Writer) Len() int { return w.n }

// Close finishes both files and moves them into place.
func (w *Writer) Close() error {
	w.csv.Flush()
	err := w.csv.Error()
	if err == nil {
		err = w.rowsTmp.Sync()
	}
	if cerr := w.rowsTmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.emb.Abort()
		os.Remove(w.rowsTmp.Name())
		return fmt.Errorf("index: writing %s: %w", filepath.Join(w.dir, RowsFile), err)
	}
	if err := w.emb.Close(); err != nil {
		os.Remove(w.rowsTmp.Name())
		return fmt.Errorf("index: %w", err)
	}
	if err := os.Rename(w.rowsTmp.Name(), filepath.Join(w.dir, RowsFile)); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// Abort discards everything written.
func (w *Writer) Abort() {
	w.emb.Abort()
	w.rowsTmp.Close()
	os.Remove(w.rowsTmp.Name())
}

// Index is an index directory loaded into memory. Vectors are stored
// L2-normalised (a copy when the file was not), so a dot product is the
// cosine similarity.
type Index struct {
	Dir     string
	N, D    int
	Vectors []float32 // N×D, unit rows
	Entries []Entry
}

// Open loads an index directory.
func Open(dir string) (*Index, error) {
	vec, n, d, err := npy.Read(filepath.Join(dir, EmbeddingsFile))
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	entries, err := readRows(filepath.Join(dir, RowsFile))
	if err != nil {
		return nil, err
	}
	if len(entries) != n {
		return nil, fmt.Errorf("index: %s has %d rows but %s has %d vectors", filepath.Join(dir, RowsFile), len(entries), filepath.Join(dir, EmbeddingsFile), n)
	}
	for i := 0; i < n; i++ {
		Normalize(vec[i*d : (i+1)*d])
	}
	return &Index{Dir: dir, N: n, D: d, Vectors: vec, Entries: entries}, nil
}

func readRows(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer f.Close()
	return parseRows(f, path)
}

// parseRows reads index.csv from r (path is for errors): the header
// row,path,label, then one record per row numbered from 0.
func parseRows(f io.Reader, path string) ([]Entry, error) {
	r := csv.NewReader(f)
	r.FieldsPerRecord = 3
	head, err := r.Read()
	if err != nil || head[0] != "row" || head[1] != "path" || head[2] != "label" {
		return nil, fmt.Errorf("index: %s: want the header row,path,label (%v)", path, err)
	}
	var out []Entry
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("index: %s: %w", path, err)
		}
		if row, err := strconv.Atoi(rec[0]); err != nil || row != len(out) {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("index: %s:%d: row %q, want %d", path, line, rec[0], len(out))
		}
		out = append(out, Entry{Path: rec[1], Label: rec[2]})
	}
}

// Normalize scales v to unit length in place (a zero vector stays zero).
func Normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
}

// Hit is one search result: an index row and its cosine similarity.
type Hit struct {
	Row   int
	Score float32
}

// chunkRows bounds the similarity block of a batched search (queries ×
// index rows scored at once) to about 64 MiB.
var chunkRows = 1 << 24

// Search returns, for each of the nq queries (nq×D values, normalised
// here on a copy), the k most similar rows best first. skip, when not nil,
// drops a (query, row) pair, e.g. the query's own row.
func (ix *Index) Search(queries []float32, nq, k int, skip func(q, row int) bool) ([][]Hit, error) {
	if len(queries) != nq*ix.D {
		return nil, fmt.Errorf("index: %d query values for %d queries of dimension %d", len(queries), nq, ix.D)
	}
	if k <= 0 {
		return nil, fmt.Errorf("index: k = %d, want k > 0", k)
	}
	q := append([]float32(nil), queries...)
	for i := 0; i < nq; i++ {
		Normalize(q[i*ix.D : (i+1)*ix.D])
	}
	out := make([][]Hit, nq)
	if ix.N == 0 {
		return out, nil
	}
	// Queries go in groups of up to queryGroup; each group scores the
	// index in blocks of rows (the similarity block stays near chunkRows
	// scores) and keeps a running top k per query, so every batch of
	// queries reads and packs the index once, whatever its size.
	const queryGroup = 256
	group := min(nq, queryGroup)
	block := max(1, min(ix.N, chunkRows/group))
	sims := make([]float32, group*block)
	for lo := 0; lo < nq; lo += group {
		hi := min(lo+group, nq)
		for r0 := 0; r0 < ix.N; r0 += block {
			r1 := min(r0+block, ix.N)
			nb := r1 - r0
			kernels.Sgemm(false, true, hi-lo, nb, ix.D, 1, q[lo*ix.D:hi*ix.D], ix.D, ix.Vectors[r0*ix.D:r1*ix.D], ix.D, 0, sims, nb)
			parallel.For(hi-lo, 1, func(a, b int) {
				for r := a; r < b; r++ {
					out[lo+r] = addHits(out[lo+r], sims[r*nb:(r+1)*nb], r0, k, func(row int) bool { return skip != nil && skip(lo+r, row) })
				}
			})
		}
	}
	return out, nil
}

// addHits merges the scores s of rows off, off+1, ... into best (at
// most k hits, best first, ties kept in row order) with a small sorted
// buffer (k is small next to N), skipping rows that skip names.
func addHits(best []Hit, s []float32, off, k int, skip func(int) bool) []Hit {
	if best == nil {
		best = make([]Hit, 0, k+1)
	}
	for j, v := range s {
		if len(best) == k && v <= best[k-1].Score || v != v {
			continue
		}
		row := off + j
		if skip(row) {
			continue
		}
		i := sort.Search(len(best), func(i int) bool { return best[i].Score < v })
		best = append(best, Hit{})
		copy(best[i+1:], best[i:])
		best[i] = Hit{Row: row, Score: v}
		if len(best) > k {
			best = best[:k]
		}
	}
	return best
}

// Pair is two rows whose cosine similarity reached a threshold (A < B).
type Pair struct {
	A, B  int
	Score float32
}

// Duplicates lists every pair of rows with cosine similarity at least
// threshold, most similar first, scoring the index against itself in
// blocks.
func (ix *Index) Duplicates(threshold float32) []Pair {
	var pairs []Pair
	if ix.N == 0 {
		return nil
	}
	step := max(1, min(ix.N, chunkRows/ix.N))
	sims := make([]float32, step*ix.N)
	for lo := 0; lo < ix.N; lo += step {
		hi := min(lo+step, ix.N)
		kernels.Sgemm(false, true, hi-lo, ix.N, ix.D, 1, ix.Vectors[lo*ix.D:hi*ix.D], ix.D, ix.Vectors, ix.D, 0, sims, ix.N)
		for r := lo; r < hi; r++ {
			row := sims[(r-lo)*ix.N : (r-lo+1)*ix.N]
			for j := r + 1; j < ix.N; j++ {
				if row[j] >= threshold {
					pairs = append(pairs, Pair{A: r, B: j, Score: row[j]})
				}
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].Score != pairs[j].Score {
			return pairs[i].Score > pairs[j].Score
		}
		return pairs[i].A < pairs[j].A || pairs[i].A == pairs[j].A && pairs[i].B < pairs[j].B
	})
	return pairs
}
