package viz

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Palette is the class colours of Scatter (matplotlib's tab10, then
// repeated with hollow markers).
var Palette = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255}, {148, 103, 189, 255},
	{140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255},
}

// Scatter draws 2-D points coloured by label (label i in Palette's colour
// i; -1 or a label without a name is drawn gray as "unlabelled"), with a
// legend of the class names to the right, and returns PNG bytes of
// widthIn×heightIn inches at 96 dpi.
func Scatter(title string, xy [][2]float64, labels []int, names []string, widthIn, heightIn float64) ([]byte, error) {
	if len(labels) != len(xy) {
		return nil, fmt.Errorf("viz: %d labels for %d points", len(labels), len(xy))
	}
	groups := make([]plotter.XYs, len(names)+1) // last: unlabelled
	for i, p := range xy {
		g := len(names)
		if l := labels[i]; l >= 0 && l < len(names) {
			g = l
		}
		groups[g] = append(groups[g], plotter.XY{X: p[0], Y: p[1]})
	}
	p := plot.New()
	p.Title.Text = title
	p.HideAxes()
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs = 0
	for g, pts := range groups {
		if len(pts) == 0 {
			continue
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, fmt.Errorf("viz: %w", err)
		}
		name := "unlabelled"
		col := color.RGBA{160, 160, 160, 255}
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		if g < len(names) {
			name, col = names[g], Palette[g%len(Palette)]
			if g >= len(Palette) {
				s.GlyphStyle.Shape = draw.RingGlyph{}
			}
		}
		s.GlyphStyle.Color = col
		s.GlyphStyle.Radius = vg.Points(1.3)
		p.Add(s)
		p.Legend.Add(name, s)
	}
	// Leave room on the right for the legend: widen the x range by 30%.
	p.X.Max += 0.3 * (p.X.Max - p.X.Min)
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(widthIn)*vg.Inch, vg.Length(heightIn)*vg.Inch), vgimg.UseDPI(96))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("viz: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteFile writes b to path atomically.
func WriteFile(path string, b []byte) error { return writeAtomic(path, b) }
