package detection

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// palette colours the classes (cycled).
var palette = []color.RGBA{
	{230, 25, 75, 255}, {60, 180, 75, 255}, {0, 130, 200, 255}, {245, 130, 48, 255},
	{145, 30, 180, 255}, {70, 240, 240, 255}, {240, 50, 230, 255}, {210, 245, 60, 255},
}

// Draw returns a copy of img with every detection scoring at least
// minScore drawn as a 2-pixel box in its class colour, labelled with the
// class name and score.
func Draw(img image.Image, dets []Detection, classes []string, minScore float64) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	for _, d := range dets {
		if d.Score < minScore {
			continue
		}
		col := palette[d.Box.Class%len(palette)]
		x0, y0 := int(math.Round(d.Box.X0)), int(math.Round(d.Box.Y0))
		x1, y1 := int(math.Round(d.Box.X1))-1, int(math.Round(d.Box.Y1))-1
		for t := 0; t < 2; t++ {
			rect(out, x0+t, y0+t, x1-t, y1-t, col)
		}
		name := fmt.Sprint(d.Box.Class)
		if d.Box.Class < len(classes) {
			name = classes[d.Box.Class]
		}
		label := fmt.Sprintf("%s %.2f", name, d.Score)
		face := basicfont.Face7x13
		w := font.MeasureString(face, label).Ceil()
		ty := max(y0-13, 0)
		draw.Draw(out, image.Rect(x0, ty, x0+w+4, ty+13), image.NewUniform(col), image.Point{}, draw.Src)
		dr := &font.Drawer{Dst: out, Src: image.White, Face: face, Dot: fixed.P(x0+2, ty+10)}
		dr.DrawString(label)
	}
	return out
}

func rect(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		img.SetRGBA(x, y0, c)
		img.SetRGBA(x, y1, c)
	}
	for y := y0; y <= y1; y++ {
		img.SetRGBA(x0, y, c)
		img.SetRGBA(x1, y, c)
	}
}
