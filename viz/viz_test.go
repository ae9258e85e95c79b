package viz

import (
	"bytes"
	"image/png"
	"path/filepath"
	"testing"

	"github.com/contrastive-ssl/contrastive/augment"
)

func TestNeighborGrid(t *testing.T) {
	red := augment.NewImage(8, 8, 3)
	for i := 0; i < len(red.Pix); i += 3 {
		red.Pix[i] = 1
	}
	rows := [][]Cell{{{Image: red, Caption: [2]string{"query", "cat"}}, {Image: red, Caption: [2]string{"0.987", "a very long caption indeed"}}}}
	img := NeighborGrid(rows, 32)
	if b := img.Bounds(); b.Dx() != gap+2*(42+gap) || b.Dy() != gap+32+captionH+gap {
		t.Fatalf("grid is %v", b)
	}
	// The first cell's image is red, scaled 4×.
	if r, g, b, _ := img.At(gap+31, gap+31).RGBA(); r>>8 != 255 || g != 0 || b != 0 {
		t.Errorf("cell pixel (%d,%d,%d), want red", r>>8, g>>8, b>>8)
	}
	// The caption area holds dark text pixels.
	dark := 0
	for y := gap + 32; y < gap+32+captionH; y++ {
		for x := gap; x < gap+42; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r>>8 < 100 {
				dark++
			}
		}
	}
	if dark < 20 {
		t.Errorf("%d dark caption pixels, want text", dark)
	}
	path := filepath.Join(t.TempDir(), "g.png")
	if err := WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
}

func TestScatter(t *testing.T) {
	xy := [][2]float64{{0, 0}, {1, 1}, {2, 0}, {5, 5}}
	b, err := Scatter("t", xy, []int{0, 1, 1, -1}, []string{"a", "b"}, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if s := img.Bounds().Size(); s.X != 288 || s.Y != 192 {
		t.Errorf("picture %v, want 288×192 (3×2 in at 96 dpi)", s)
	}
	// Class colours appear in the picture.
	found := map[[3]uint32]bool{}
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			found[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	for i := 0; i < 2; i++ {
		c := Palette[i]
		if !found[[3]uint32{uint32(c.R), uint32(c.G), uint32(c.B)}] {
			t.Errorf("colour of class %d %v not drawn", i, c)
		}
	}
	if _, err := Scatter("t", xy, []int{0}, nil, 3, 2); err == nil {
		t.Error("mismatched labels accepted")
	}
}
