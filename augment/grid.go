package augment

import (
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
)

// toByte maps [0, 1] to 0..255 with rounding (values outside are clamped).
func toByte(v float32) uint8 { return uint8(clamp01(v)*255 + 0.5) }

// ToRGBA converts img (values in [0, 1]) to an 8-bit image, enlarged
// scale times by pixel replication; gray images become gray RGBA.
func ToRGBA(img *Image, scale int) *image.RGBA {
	img.check("ToRGBA")
	scale = max(scale, 1)
	out := image.NewRGBA(image.Rect(0, 0, img.W*scale, img.H*scale))
	drawScaled(out, img, 0, 0, scale)
	return out
}

func drawScaled(dst *image.RGBA, img *Image, x0, y0, scale int) {
	c := img.C
	for y := 0; y < img.H*scale; y++ {
		row := dst.Pix[(y0+y)*dst.Stride+x0*4:]
		src := img.Pix[(y/scale)*img.W*c:]
		for x := 0; x < img.W*scale; x++ {
			p := src[(x/scale)*c:]
			r := toByte(p[0])
			g, b := r, r
			if c == 3 {
				g, b = toByte(p[1]), toByte(p[2])
			}
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = r, g, b, 255
		}
	}
}

// GridGap is the white space, in output pixels, between the cells of Grid.
const GridGap = 4

// Grid lays rows of images out as one picture: row i holds rows[i] left to
// right, every image enlarged scale times and placed in a cell as large as
// the largest image, with GridGap pixels of white between cells. Used by
// the augment command to show a source image followed by its views.
func Grid(rows [][]*Image, scale int) *image.RGBA {
	scale = max(scale, 1)
	cellH, cellW, cols := 0, 0, 0
	for _, r := range rows {
		cols = max(cols, len(r))
		for _, img := range r {
			img.check("Grid")
			cellH, cellW = max(cellH, img.H*scale), max(cellW, img.W*scale)
		}
	}
	if cols == 0 {
		panic(fmt.Sprintf("augment.Grid: no images in %d rows", len(rows)))
	}
	out := image.NewRGBA(image.Rect(0, 0, cols*(cellW+GridGap)+GridGap, len(rows)*(cellH+GridGap)+GridGap))
	white := color.RGBA{255, 255, 255, 255}
	for i := 0; i < len(out.Pix); i += 4 {
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = white.R, white.G, white.B, white.A
	}
	for i, r := range rows {
		for j, img := range r {
			x := GridGap + j*(cellW+GridGap) + (cellW-img.W*scale)/2
			y := GridGap + i*(cellH+GridGap) + (cellH-img.H*scale)/2
			drawScaled(out, img, x, y, scale)
		}
	}
	return out
}

// ViewGridMinCell is the side, in output pixels, that ViewGrid's automatic
// scale enlarges the largest image to at least.
const ViewGridMinCell = 96

// ViewGrid shows what a pretext task does: one row per source image, the
// source followed by views images made by mv (calling mv.Views as often as
// needed; views 0 means one call), each shown with MultiView.Display. Row
// i draws from a generator seeded with (seed, i). A source larger than the
// views is shrunk (antialiased) to their size. scale 0 picks the smallest
// integer scale that makes the largest cell at least ViewGridMinCell
// pixels.
func ViewGrid(mv *MultiView, sources []*Image, views, scale int, seed uint64) *image.RGBA {
	if len(sources) == 0 || len(mv.Pipelines) == 0 {
		panic(fmt.Sprintf("augment.ViewGrid: %d sources, %d pipelines", len(sources), len(mv.Pipelines)))
	}
	if views <= 0 {
		views = len(mv.Pipelines)
	}
	rows := make([][]*Image, len(sources))
	maxSide := 0
	for i, src := range sources {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		row := []*Image{nil}
		for len(row) < 1+views {
			for j, v := range mv.Views(src, rng) {
				if len(row) < 1+views {
					d := mv.Display(j, v)
					row = append(row, d)
					maxSide = max(maxSide, d.H, d.W)
				}
			}
		}
		rows[i] = row
	}
	for i, src := range sources {
		if long := max(src.H, src.W); long > maxSide {
			h := max(1, src.H*maxSide/long)
			w := max(1, src.W*maxSide/long)
			src = Resize(src, Size{h, w}, Bilinear, true)
		}
		rows[i][0] = src
		maxSide = max(maxSide, src.H, src.W)
	}
	if scale <= 0 {
		scale = max(1, (ViewGridMinCell+maxSide-1)/maxSide)
	}
	return Grid(rows, scale)
}
