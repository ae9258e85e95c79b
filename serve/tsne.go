package serve

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// TSNEFile is the t-SNE map `eval tsne --index DIR` writes into an index
// directory: a CSV with the header row,x,y,label (further columns ignored).
const TSNEFile = "tsne.csv"

// tsneMap is the map in the compact form /v1/tsne answers: parallel arrays
// and one label index per point into Labels ("" when unlabelled).
type tsneMap struct {
	Rows   []int     `json:"rows"`
	X      []float32 `json:"x"`
	Y      []float32 `json:"y"`
	Label  []int     `json:"label"`
	Labels []string  `json:"labels"`
}

// readTSNE reads a t-SNE CSV for an index of n rows.
func readTSNE(path string, n int) (*tsneMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("t-SNE map: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("t-SNE map %s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	ri, okR := col["row"]
	xi, okX := col["x"]
	yi, okY := col["y"]
	li, okL := col["label"]
	if !okR || !okX || !okY {
		return nil, fmt.Errorf("t-SNE map %s: header %v lacks row, x and y", path, head)
	}
	m := &tsneMap{}
	labelIdx := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return nil, fmt.Errorf("t-SNE map %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(head) {
			return nil, fmt.Errorf("t-SNE map %s:%d: %d fields, the header has %d", path, line, len(rec), len(head))
		}
		row, err := strconv.Atoi(rec[ri])
		if err != nil || row < 0 || row >= n {
			return nil, fmt.Errorf("t-SNE map %s:%d: row %q is not a row of the index (0 to %d)", path, line, rec[ri], n-1)
		}
		x, errX := strconv.ParseFloat(rec[xi], 32)
		y, errY := strconv.ParseFloat(rec[yi], 32)
		if errX != nil || errY != nil || math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("t-SNE map %s:%d: coordinates %q, %q are not finite numbers", path, line, rec[xi], rec[yi])
		}
		label := ""
		if okL {
			label = rec[li]
		}
		id, ok := labelIdx[label]
		if !ok {
			id = len(m.Labels)
			labelIdx[label] = id
			m.Labels = append(m.Labels, label)
		}
		m.Rows = append(m.Rows, row)
		m.X = append(m.X, float32(x))
		m.Y = append(m.Y, float32(y))
		m.Label = append(m.Label, id)
	}
}
