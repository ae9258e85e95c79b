package detection

import (
	"fmt"
	"math"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// LossWeights are CenterNet's weights of the size and offset terms (0.1
// and 1); the heatmap term has weight 1.
type LossWeights struct{ Size, Offset float64 }

// DefaultLossWeights are the paper's.
var DefaultLossWeights = LossWeights{Size: 0.1, Offset: 1}

// LossParts are the terms of the loss, unweighted, and the weighted total.
type LossParts struct {
	Heat, Size, Offset, Total float64
}

// focalClamp is CenterNet's clamp of the sigmoid to [1e-4, 1−1e-4].
const focalClamp = 1e-4

// Loss computes CenterNet's loss of the head outputs out [N, gh, gw, C+4]
// against t and its gradient with respect to out (same shape), so the
// caller backpropagates with autograd.BackwardWith(out, grad).
//
// The heatmap term is the penalty-reduced focal loss (α = 2, β = 4) of
// "Objects as Points" eq. 1 on p = clamp(σ(logit), 1e-4, 1−1e-4) (the
// clamp passes no gradient, as torch.clamp):
//
//	−1/N_pos · Σ { (1−p)² log p            if y = 1
//	             { (1−y)⁴ p² log(1−p)      otherwise
//
// normalised by the number of peaks (or not at all when there are none).
// The size and offset terms are L1 losses at the objects' centre cells
// divided by 2·N_obj + 1e-4 (CenterNet's RegL1Loss with its mask).
func Loss(out *tensor.Tensor, t *Targets, w LossWeights) (LossParts, *tensor.Tensor) {
	s := out.Shape()
	c := t.C
	if len(s) != 4 || s[0] != t.N || s[1] != t.GH || s[2] != t.GW || s[3] != c+4 {
		panic(fmt.Sprintf("detection.Loss: output %v, targets for [%d %d %d %d]", s, t.N, t.GH, t.GW, c+4))
	}
	grad := tensor.New(s...)
	x, g := out.Data, grad.Data
	cells := t.N * t.GH * t.GW
	npos := 0
	for _, y := range t.Heat {
		if y == 1 {
			npos++
		}
	}
	norm := float64(max(npos, 1))
	var parts LossParts
	for cell := 0; cell < cells; cell++ {
		for k := 0; k < c; k++ {
			y := float64(t.Heat[cell*c+k])
			l, d := focal(float64(x[cell*(c+4)+k]), y)
			parts.Heat += l
			g[cell*(c+4)+k] = float32(d / norm)
		}
	}
	parts.Heat /= norm
	den := 2*float64(len(t.Objects)) + 1e-4
	for _, o := range t.Objects {
		base := ((o.N*t.GH*t.GW)+o.Index)*(c+4) + c
		for j, target := range [4]float32{o.W, o.H, o.OffX, o.OffY} {
			diff := float64(x[base+j]) - float64(target)
			wt := w.Size
			if j >= 2 {
				wt = w.Offset
			}
			if j < 2 {
				parts.Size += math.Abs(diff) / den
			} else {
				parts.Offset += math.Abs(diff) / den
			}
			g[base+j] += float32(wt * sign(diff) / den)
		}
	}
	parts.Total = parts.Heat + w.Size*parts.Size + w.Offset*parts.Offset
	return parts, grad
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// focal returns the focal-loss term of one logit x with target y and its
// derivative with respect to x (before the 1/N_pos normalisation).
func focal(x, y float64) (loss, d float64) {
	p := 1 / (1 + math.Exp(-x))
	clamped := false
	if p < focalClamp {
		p, clamped = focalClamp, true
	} else if p > 1-focalClamp {
		p, clamped = 1-focalClamp, true
	}
	if y == 1 {
		lp := math.Log(p)
		loss = -lp * (1 - p) * (1 - p)
		if !clamped {
			q := 1 - p
			d = -(q*q*q - 2*p*q*q*lp)
		}
		return loss, d
	}
	wt := math.Pow(1-y, 4)
	l1p := math.Log(1 - p)
	loss = -wt * p * p * l1p
	if !clamped {
		d = -wt * (-p*p*p + 2*p*p*(1-p)*l1p)
	}
	return loss, d
}
