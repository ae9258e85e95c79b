package detection

import (
	"math"

	"github.com/contrastive-ssl/contrastive/detection/dataset"
)

// Object is one box's regression target: its centre cell (image n, index
// row·w+col of the output grid) and the size (cells) and sub-cell offset
// the heads should predict there.
type Object struct {
	N, Index   int
	W, H       float32
	OffX, OffY float32
}

// Targets are the training targets of a batch on a gh×gw grid: the class
// heatmap [N, gh, gw, C] (Gaussian peaks of value 1 at object centres) and
// the objects.
type Targets struct {
	N, GH, GW, C int
	Heat         []float32
	Objects      []Object
}

// GaussianRadius is CenterNet's gaussian_radius: the radius around a box
// corner within which a shifted box of size h×w keeps IoU ≥ minOverlap
// with it, the smallest of the three cases of CornerNet.
func GaussianRadius(h, w, minOverlap float64) float64 {
	b1 := h + w
	c1 := w * h * (1 - minOverlap) / (1 + minOverlap)
	r1 := (b1 + math.Sqrt(b1*b1-4*c1)) / 2
	b2 := 2 * (h + w)
	c2 := (1 - minOverlap) * w * h
	r2 := (b2 + math.Sqrt(b2*b2-16*c2)) / 2
	a3 := 4 * minOverlap
	b3 := -2 * minOverlap * (h + w)
	c3 := (minOverlap - 1) * w * h
	r3 := (b3 + math.Sqrt(b3*b3-4*a3*c3)) / 2
	return min(r1, r2, r3)
}

// drawGaussian is CenterNet's draw_umich_gaussian: heat = max(heat,
// exp(−(dx²+dy²)/(2σ²))) over the (2r+1)² window around (cx, cy),
// σ = (2r+1)/6. heat is one class plane of a gh×gw grid with the given
// element stride.
func drawGaussian(heat []float32, gh, gw, stride, cx, cy, r int) {
	sigma := float64(2*r+1) / 6
	for y := max(cy-r, 0); y <= min(cy+r, gh-1); y++ {
		for x := max(cx-r, 0); x <= min(cx+r, gw-1); x++ {
			dx, dy := float64(x-cx), float64(y-cy)
			g := float32(math.Exp(-(dx*dx + dy*dy) / (2 * sigma * sigma)))
			if p := &heat[(y*gw+x)*stride]; g > *p {
				*p = g
			}
		}
	}
}

// BuildTargets computes the targets of a batch whose images are H×W input
// pixels (multiples of Stride) with boxes in input pixels.
func BuildTargets(boxes [][]dataset.Box, h, w, numClasses int) *Targets {
	gh, gw := h/Stride, w/Stride
	t := &Targets{N: len(boxes), GH: gh, GW: gw, C: numClasses, Heat: make([]float32, len(boxes)*gh*gw*numClasses)}
	for n, bs := range boxes {
		plane := t.Heat[n*gh*gw*numClasses:]
		for _, b := range bs {
			bw, bh := b.W()/Stride, b.H()/Stride
			if bw <= 0 || bh <= 0 || b.Class < 0 || b.Class >= numClasses {
				continue
			}
			cx, cy := (b.X0+b.X1)/2/Stride, (b.Y0+b.Y1)/2/Stride
			ix := min(max(int(math.Floor(cx)), 0), gw-1)
			iy := min(max(int(math.Floor(cy)), 0), gh-1)
			r := max(0, int(GaussianRadius(math.Ceil(bh), math.Ceil(bw), 0.7)))
			drawGaussian(plane[b.Class:], gh, gw, numClasses, ix, iy, r)
			t.Objects = append(t.Objects, Object{N: n, Index: iy*gw + ix, W: float32(bw), H: float32(bh), OffX: float32(cx - float64(ix)), OffY: float32(cy - float64(iy))})
		}
	}
	return t
}
