package detection

import (
	"math"
	"sort"

	"github.com/contrastive-ssl/contrastive/detection/dataset"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// DecodeOptions control Decode.
type DecodeOptions struct {
	TopK     int     // most detections per image (100, COCO's maxDets)
	MinScore float64 // drop peaks below this score (0.001)
}

// Decode turns the head outputs out [N, gh, gw, C+4] of image n into
// boxes: CenterNet's decoding without NMS. A cell is a peak of class c
// when its heatmap logit is the largest in its 3×3 neighbourhood (the
// 3×3 max-pool test); the TopK peaks by σ(logit) become boxes centred at
// (col + offset_x, row + offset_y)·Stride of the predicted size·Stride, in
// input pixels. sx, sy divide them back to the original image, whose size
// w×h clips them.
func Decode(out *tensor.Tensor, n, numClasses int, opt DecodeOptions, sx, sy, w, h float64) []Detection {
	if opt.TopK == 0 {
		opt.TopK = 100
	}
	if opt.MinScore == 0 {
		opt.MinScore = 0.001
	}
	s := out.Shape()
	gh, gw, ch := s[1], s[2], s[3]
	x := out.Data[n*gh*gw*ch : (n+1)*gh*gw*ch]
	minLogit := float32(math.Log(opt.MinScore / (1 - opt.MinScore)))
	type peak struct {
		logit   float32
		r, c, k int
	}
	var peaks []peak
	for r := 0; r < gh; r++ {
		for c := 0; c < gw; c++ {
			for k := 0; k < numClasses; k++ {
				v := x[(r*gw+c)*ch+k]
				if v < minLogit || !isPeak(x, gh, gw, ch, r, c, k, v) {
					continue
				}
				peaks = append(peaks, peak{v, r, c, k})
			}
		}
	}
	sort.SliceStable(peaks, func(i, j int) bool { return peaks[i].logit > peaks[j].logit })
	if len(peaks) > opt.TopK {
		peaks = peaks[:opt.TopK]
	}
	dets := make([]Detection, 0, len(peaks))
	for _, p := range peaks {
		o := x[(p.r*gw+p.c)*ch+numClasses:]
		bw, bh := math.Max(float64(o[0]), 0)*Stride, math.Max(float64(o[1]), 0)*Stride
		cx, cy := (float64(p.c)+float64(o[2]))*Stride, (float64(p.r)+float64(o[3]))*Stride
		b := dataset.Box{
			X0: clamp((cx-bw/2)/sx, 0, w), Y0: clamp((cy-bh/2)/sy, 0, h),
			X1: clamp((cx+bw/2)/sx, 0, w), Y1: clamp((cy+bh/2)/sy, 0, h),
			Class: p.k,
		}
		dets = append(dets, Detection{Box: b, Score: 1 / (1 + math.Exp(-float64(p.logit)))})
	}
	return dets
}

func isPeak(x []float32, gh, gw, ch, r, c, k int, v float32) bool {
	for dr := -1; dr <= 1; dr++ {
		for dc := -1; dc <= 1; dc++ {
			rr, cc := r+dr, c+dc
			if rr < 0 || cc < 0 || rr >= gh || cc >= gw {
				continue
			}
			if x[(rr*gw+cc)*ch+k] > v {
				return false
			}
		}
	}
	return true
}

func clamp(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }
