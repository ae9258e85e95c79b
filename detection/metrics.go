package detection

import (
	"encoding/json"
	"math"
	"sort"

	"github.com/contrastive-ssl/contrastive/detection/dataset"
)

// Detection is one predicted box of an image with its score; Box.Class is
// the predicted class.
type Detection struct {
	Box   dataset.Box
	Score float64
}

// IoU returns the intersection over union of two boxes in continuous
// coordinates. detectron2's VOC evaluation (boxes written back as
// xmin+1, ymin+1, xmax, ymax and compared with "+1" widths) and
// pycocotools' ([x, y, w, h]) both reduce to this.
func IoU(a, b dataset.Box) float64 {
	iw := math.Min(a.X1, b.X1) - math.Max(a.X0, b.X0)
	ih := math.Min(a.Y1, b.Y1) - math.Max(a.Y0, b.Y0)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	u := a.Area() + b.Area() - inter
	if u <= 0 {
		return 0
	}
	return inter / u
}

// crowdIoU is pycocotools' overlap with a crowd box: intersection over the
// detection's area.
func crowdIoU(d, g dataset.Box) float64 {
	iw := math.Min(d.X1, g.X1) - math.Max(d.X0, g.X0)
	ih := math.Min(d.Y1, g.Y1) - math.Max(d.Y0, g.Y0)
	if iw <= 0 || ih <= 0 || d.Area() <= 0 {
		return 0
	}
	return iw * ih / d.Area()
}

// Evaluator accumulates ground truth and detections image by image and
// computes the VOC and COCO metrics.
type Evaluator struct {
	Classes []string
	gts     [][]dataset.Box
	dets    [][]Detection
}

// NewEvaluator returns an evaluator for the given classes.
func NewEvaluator(classes []string) *Evaluator { return &Evaluator{Classes: classes} }

// Add records one image: its ground-truth boxes and the detector's boxes.
func (e *Evaluator) Add(gt []dataset.Box, dets []Detection) {
	e.gts = append(e.gts, gt)
	e.dets = append(e.dets, dets)
}

// ClassAP holds one class's average precisions in percent; NaN when the
// class has no (non-difficult) ground truth.
type ClassAP struct {
	Class string  `json:"class"`
	NumGT int     `json:"num_gt"`
	AP50  float64 `json:"ap50"`      // VOC07 11-point AP at IoU > 0.5
	AP    float64 `json:"ap"`        // COCO AP@[.5:.95]
	AP75  float64 `json:"ap75"`      // COCO AP at IoU ≥ 0.75
	CAP50 float64 `json:"coco_ap50"` // COCO AP at IoU ≥ 0.5 (101-point)
}

// Result holds the means over classes with ground truth, in percent
// (detectron2 and pycocotools print the same numbers ×100).
type Result struct {
	AP50     float64   `json:"ap50"`
	AP75     float64   `json:"ap75"`
	AP       float64   `json:"ap"`
	CAP50    float64   `json:"coco_ap50"`
	Images   int       `json:"images"`
	PerClass []ClassAP `json:"per_class"`
}

// Evaluate computes the per-class and mean APs.
func (e *Evaluator) Evaluate() Result {
	r := Result{Images: len(e.gts)}
	var n50, n, n75, nc50 meanAcc
	for c, name := range e.Classes {
		ca := ClassAP{Class: name, AP50: VOCAP(e.gts, e.dets, c, 0.5, true)}
		for _, bs := range e.gts {
			for _, b := range bs {
				if b.Class == c && !b.Difficult && !b.Crowd {
					ca.NumGT++
				}
			}
		}
		aps := COCOAP(e.gts, e.dets, c, 100)
		ca.CAP50, ca.AP75 = aps[0], aps[5]
		ca.AP = mean(aps[:])
		r.PerClass = append(r.PerClass, ca)
		n50.add(ca.AP50)
		n.add(ca.AP)
		n75.add(ca.AP75)
		nc50.add(ca.CAP50)
	}
	r.AP50, r.AP, r.AP75, r.CAP50 = n50.get(), n.get(), n75.get(), nc50.get()
	return r
}

type meanAcc struct {
	s float64
	n int
}

func (m *meanAcc) add(v float64) {
	if !math.IsNaN(v) {
		m.s += v
		m.n++
	}
}

func (m *meanAcc) get() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	return m.s / float64(m.n)
}

func mean(v []float64) float64 {
	var m meanAcc
	for _, x := range v {
		m.add(x)
	}
	return m.get()
}

// VOCAP is detectron2's voc_eval for one class, in percent: detections of
// the class from every image sorted by score (descending, stable), each
// matched to the ground-truth box of its image with the largest IoU; above
// thresh (strictly) it is a true positive if that box is new, ignored if
// it is difficult, a false positive if already taken; otherwise a false
// positive. Crowd boxes count as difficult here. use07 selects the VOC2007 11-point interpolation
// (mean over recall 0, 0.1, …, 1 of the best precision at that recall or
// more), otherwise the area under the monotone precision envelope. NaN when
// the class has no non-difficult box.
func VOCAP(gts [][]dataset.Box, dets [][]Detection, class int, thresh float64, use07 bool) float64 {
	type det struct {
		img   int
		d     Detection
		order int
	}
	var ds []det
	npos := 0
	for _, bs := range gts {
		for _, b := range bs {
			if b.Class == class && !b.Difficult && !b.Crowd {
				npos++
			}
		}
	}
	for i, dl := range dets {
		for _, d := range dl {
			if d.Box.Class == class {
				ds = append(ds, det{i, d, len(ds)})
			}
		}
	}
	if npos == 0 {
		return math.NaN()
	}
	sort.SliceStable(ds, func(a, b int) bool { return ds[a].d.Score > ds[b].d.Score })
	used := make([]map[int]bool, len(gts))
	tp := make([]float64, len(ds))
	fp := make([]float64, len(ds))
	for k, d := range ds {
		best, bj := math.Inf(-1), -1
		for j, g := range gts[d.img] {
			if g.Class != class {
				continue
			}
			if o := IoU(d.d.Box, g); o > best {
				best, bj = o, j
			}
		}
		if best > thresh {
			g := gts[d.img][bj]
			switch {
			case g.Difficult || g.Crowd:
			case used[d.img] == nil || !used[d.img][bj]:
				if used[d.img] == nil {
					used[d.img] = map[int]bool{}
				}
				used[d.img][bj] = true
				tp[k] = 1
			default:
				fp[k] = 1
			}
		} else {
			fp[k] = 1
		}
	}
	rec := make([]float64, len(ds))
	prec := make([]float64, len(ds))
	var ctp, cfp float64
	for k := range ds {
		ctp += tp[k]
		cfp += fp[k]
		rec[k] = ctp / float64(npos)
		prec[k] = ctp / math.Max(ctp+cfp, math.SmallestNonzeroFloat64)
	}
	return 100 * vocAPCurve(rec, prec, use07)
}

// vocAPCurve is detectron2's voc_ap.
func vocAPCurve(rec, prec []float64, use07 bool) float64 {
	if use07 {
		ap := 0.0
		for i := 0; i <= 10; i++ {
			t := float64(i) / 10 // np.arange(0., 1.1, 0.1)
			p := 0.0
			for k := range rec {
				if rec[k] >= t && prec[k] > p {
					p = prec[k]
				}
			}
			ap += p / 11
		}
		return ap
	}
	mrec := append(append([]float64{0}, rec...), 1)
	mpre := append(append([]float64{0}, prec...), 0)
	for i := len(mpre) - 1; i > 0; i-- {
		mpre[i-1] = math.Max(mpre[i-1], mpre[i])
	}
	ap := 0.0
	for i := 1; i < len(mrec); i++ {
		if mrec[i] != mrec[i-1] {
			ap += (mrec[i] - mrec[i-1]) * mpre[i]
		}
	}
	return ap
}

// linspace is numpy.linspace(a, b, n) (endpoint included).
func linspace(a, b float64, n int) []float64 {
	out := make([]float64, n)
	step := (b - a) / float64(n-1)
	for i := range out {
		out[i] = float64(i)*step + a
	}
	out[n-1] = b
	return out
}

// COCOIoUs are pycocotools' thresholds np.linspace(.5, .95, 10).
var COCOIoUs = linspace(0.5, 0.95, 10)

var cocoRecalls = linspace(0, 1, 101)

// COCOAP is pycocotools' COCOeval for one class and area "all", in percent,
// at each threshold of COCOIoUs: per image the maxDets best detections
// (stable by score) are matched greedily to the best still-free box with
// IoU ≥ t, non-ignored boxes first (difficult and crowd boxes are
// ignored; a crowd box matches any number of detections with IoU taken
// over the detection's area); detections matched to ignored boxes do not
// count. Precision is made monotone and read at recalls 0, 0.01, …, 1.
// NaN at every threshold when the class has no non-ignored box.
func COCOAP(gts [][]dataset.Box, dets [][]Detection, class, maxDets int) [10]float64 {
	type scored struct {
		score   float64
		matched [10]bool
		ignored [10]bool
	}
	var all []scored
	npig := 0
	for i := range gts {
		var g []dataset.Box
		for _, b := range gts[i] {
			if b.Class == class && !(b.Difficult || b.Crowd) {
				g = append(g, b)
			}
		}
		for _, b := range gts[i] {
			if b.Class == class && (b.Difficult || b.Crowd) {
				g = append(g, b)
			}
		}
		npig += countNotIgnored(g)
		var d []Detection
		if i < len(dets) {
			for _, x := range dets[i] {
				if x.Box.Class == class {
					d = append(d, x)
				}
			}
		}
		sort.SliceStable(d, func(a, b int) bool { return d[a].Score > d[b].Score })
		if len(d) > maxDets {
			d = d[:maxDets]
		}
		ious := make([][]float64, len(d))
		for a := range d {
			ious[a] = make([]float64, len(g))
			for b := range g {
				if g[b].Crowd {
					ious[a][b] = crowdIoU(d[a].Box, g[b])
				} else {
					ious[a][b] = IoU(d[a].Box, g[b])
				}
			}
		}
		ign := func(b dataset.Box) bool { return b.Difficult || b.Crowd }
		rows := make([]scored, len(d))
		for ti, t := range COCOIoUs {
			gtm := make([]bool, len(g))
			for a := range d {
				iou := math.Min(t, 1-1e-10)
				m := -1
				for b := range g {
					if gtm[b] && !g[b].Crowd {
						continue
					}
					if m > -1 && !ign(g[m]) && ign(g[b]) {
						break
					}
					if ious[a][b] < iou {
						continue
					}
					iou, m = ious[a][b], b
				}
				if m == -1 {
					continue
				}
				rows[a].matched[ti] = true
				rows[a].ignored[ti] = ign(g[m])
				gtm[m] = true
			}
		}
		for a := range d {
			rows[a].score = d[a].Score
		}
		all = append(all, rows...)
	}
	var out [10]float64
	if npig == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].score > all[b].score })
	for ti := range COCOIoUs {
		nd := len(all)
		rc := make([]float64, nd)
		pr := make([]float64, nd)
		var tp, fp float64
		for k, s := range all {
			if !s.ignored[ti] {
				if s.matched[ti] {
					tp++
				} else {
					fp++
				}
			}
			rc[k] = tp / float64(npig)
			pr[k] = tp / (tp + fp + math.Nextafter(1, 2) - 1)
		}
		for k := nd - 1; k > 0; k-- {
			if pr[k] > pr[k-1] {
				pr[k-1] = pr[k]
			}
		}
		q := 0.0
		for _, r := range cocoRecalls {
			pi := sort.SearchFloat64s(rc, r) // searchsorted side='left'
			if pi < nd {
				q += pr[pi]
			}
		}
		out[ti] = 100 * q / float64(len(cocoRecalls))
	}
	return out
}

func countNotIgnored(g []dataset.Box) int {
	n := 0
	for _, b := range g {
		if !b.Difficult && !b.Crowd {
			n++
		}
	}
	return n
}

// jsonNum rounds a percentage to 4 decimals; NaN (no ground truth) becomes
// null, which JSON can carry.
func jsonNum(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return math.Round(v*1e4) / 1e4
}

// MarshalJSON writes the APs in percent, null where undefined.
func (c ClassAP) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"class": c.Class, "num_gt": c.NumGT, "ap50": jsonNum(c.AP50), "ap": jsonNum(c.AP), "ap75": jsonNum(c.AP75), "coco_ap50": jsonNum(c.CAP50)})
}

// MarshalJSON writes the means in percent (null where undefined), the
// unit and the per-class values.
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"ap50": jsonNum(r.AP50), "ap": jsonNum(r.AP), "ap75": jsonNum(r.AP75), "coco_ap50": jsonNum(r.CAP50),
		"images": r.Images, "per_class": r.PerClass, "units": "percent"})
}
