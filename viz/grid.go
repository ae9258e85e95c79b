package viz

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/contrastive-ssl/contrastive/augment"
)

// Cell is one picture of a grid with up to two caption lines below it.
type Cell struct {
	Image   *augment.Image // values in [0, 1]; nil leaves the cell empty
	Caption [2]string
}

// captionH is the height of the two caption lines under a cell.
const (
	lineH    = 13
	captionH = 2*lineH + 2
	gap      = 6
)

// NeighborGrid lays out rows of cells (a query followed by its
// neighbours): every image is scaled to side×side pixels (nearest
// neighbour enlarging, antialiased shrinking), with its captions in a
// 7×13 bitmap font underneath, truncated to the cell's width.
func NeighborGrid(rows [][]Cell, side int) *image.RGBA {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	cellW := max(side, 7*6)
	cellH := side + captionH
	out := image.NewRGBA(image.Rect(0, 0, gap+cols*(cellW+gap), gap+len(rows)*(cellH+gap)))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: out, Src: image.NewUniform(color.RGBA{20, 20, 20, 255}), Face: basicfont.Face7x13}
	for i, r := range rows {
		for j, c := range r {
			x0, y0 := gap+j*(cellW+gap), gap+i*(cellH+gap)
			if c.Image != nil {
				pic := fit(c.Image, side)
				draw.Draw(out, image.Rect(x0, y0, x0+side, y0+side), pic, image.Point{}, draw.Src)
			}
			for l, s := range c.Caption {
				maxChars := cellW / 7
				if len(s) > maxChars {
					s = s[:maxChars]
				}
				d.Dot = fixed.P(x0, y0+side+lineH*(l+1)-2)
				d.DrawString(s)
			}
		}
	}
	return out
}

// fit scales img to side×side: an integer enlargement by pixel
// replication when it divides, else a bilinear resize.
func fit(img *augment.Image, side int) *image.RGBA {
	if img.H == side && img.W == side {
		return augment.ToRGBA(img, 1)
	}
	if img.H == img.W && side%img.H == 0 {
		return augment.ToRGBA(img, side/img.H)
	}
	return augment.ToRGBA(augment.Resize(img, augment.Size{H: side, W: side}, augment.Bilinear, true), 1)
}

// WritePNG encodes img to path atomically (a temporary file renamed).
func WritePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		return fmt.Errorf("viz: encode %s: %w", path, err)
	}
	return writeAtomic(path, buf.Bytes())
}

func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes 0600 files
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("viz: write %s: %w", path, err)
	}
	return nil
}
