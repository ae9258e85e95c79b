package train

import (
	"bytes"
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/contrastive-ssl/contrastive/internal/safetensors"
)

// PlotCurves writes a PNG with the loss and learning-rate curves (and the
// online kNN accuracy when present) of a run's records, atomically.
func PlotCurves(path string, recs []Record) error {
	var loss, lr, knn plotter.XYs
	for _, r := range recs {
		if r.KNNTop1 != nil {
			knn = append(knn, plotter.XY{X: float64(r.Step), Y: *r.KNNTop1})
			continue
		}
		loss = append(loss, plotter.XY{X: float64(r.Step), Y: r.Loss})
		lr = append(lr, plotter.XY{X: float64(r.Step), Y: r.LR})
	}
	panel := func(title, ylabel string, pts plotter.XYs) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "step"
		p.Y.Label.Text = ylabel
		if len(pts) > 0 {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			p.Add(l)
		}
		return p, nil
	}
	titles := []struct {
		t, y string
		pts  plotter.XYs
	}{{"training loss", "loss", loss}, {"learning rate", "lr", lr}}
	if len(knn) > 0 {
		titles = append(titles, struct {
			t, y string
			pts  plotter.XYs
		}{"online kNN top-1", "accuracy", knn})
	}
	const w, h = 6 * vg.Inch, 3 * vg.Inch
	img := vgimg.New(w, h*vg.Length(len(titles)))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(titles), Cols: 1, PadX: vg.Millimeter, PadY: 2 * vg.Millimeter}
	for i, tt := range titles {
		p, err := panel(tt.t, tt.y, tt.pts)
		if err != nil {
			return fmt.Errorf("plot %s: %w", path, err)
		}
		p.Draw(tiles.At(dc, 0, i))
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return safetensors.WriteFileAtomic(path, buf.Bytes())
}
