package detection

import (
	"math"
	"testing"

	"github.com/contrastive-ssl/contrastive/detection/dataset"
)

func bx(x0, y0, x1, y1 float64) dataset.Box { return dataset.Box{X0: x0, Y0: y0, X1: x1, Y1: y1} }

func det(b dataset.Box, s float64) Detection { return Detection{Box: b, Score: s} }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestIoU(t *testing.T) {
	for _, c := range []struct {
		a, b dataset.Box
		want float64
	}{
		{bx(0, 0, 10, 10), bx(0, 0, 10, 10), 1},
		{bx(0, 0, 10, 10), bx(5, 0, 15, 10), 50.0 / 150},
		{bx(0, 0, 10, 10), bx(10, 0, 20, 10), 0},
		{bx(0, 0, 10, 10), bx(2, 2, 4, 4), 4.0 / 100},
		{bx(0, 0, 0, 0), bx(0, 0, 0, 0), 0},
	} {
		if got := IoU(c.a, c.b); !near(got, c.want) || !near(IoU(c.b, c.a), c.want) {
			t.Errorf("IoU(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

// handCase is worked through by hand in TestVOCAndCOCOHandCase.
func handCase() ([][]dataset.Box, [][]Detection) {
	g2 := bx(20, 0, 30, 10)
	g2.Difficult = true
	gts := [][]dataset.Box{{bx(0, 0, 10, 10), g2}, {bx(0, 0, 10, 10)}}
	dets := [][]Detection{
		{det(bx(0, 0, 10, 10), .9), det(bx(20, 0, 30, 10), .8), det(bx(1, 0, 10, 10), .7)},
		{det(bx(5, 0, 15, 10), .6), det(bx(0, 0, 10, 8.7), .5)},
	}
	return gts, dets
}

// TestVOCAndCOCOHandCase: two positives (one per image) and a difficult
// box. In score order: d1 matches g1 (IoU 1, TP); d2 matches the
// difficult box (ignored); d3 overlaps the taken g1 (FP); d4 has IoU 1/3
// (FP); d5 matches g3 with IoU 0.87 (TP).
//
// VOC: recall .5,.5,.5,.5,1 and precision 1,1,.5,1/3,.5; 11-point AP =
// (6·1 + 5·0.5)/11 = 77.27%; the area-under-envelope AP (VOC2010) is
// .5·1 + .5·.5 = 75%.
//
// COCO at IoU ≤ 0.85 (8 thresholds): the envelope is 1 for recall ≤ .5 (51
// recall points) and .5 above (50 points): (51 + 25)/101 = 75.25%. At 0.9
// and 0.95 d5 is a false positive, recall stops at .5: 51/101 = 50.50%.
// AP@[.5:.95] = (8·76 + 2·51)/1010 = 70.30%.
func TestVOCAndCOCOHandCase(t *testing.T) {
	gts, dets := handCase()
	if got, want := VOCAP(gts, dets, 0, 0.5, true), 100*8.5/11; !near(got, want) {
		t.Errorf("VOC07 AP50 %v, want %v", got, want)
	}
	if got := VOCAP(gts, dets, 0, 0.5, false); !near(got, 75) {
		t.Errorf("VOC AP50 (area) %v, want 75", got)
	}
	aps := COCOAP(gts, dets, 0, 100)
	for i, want := range []float64{76, 76, 76, 76, 76, 76, 76, 76, 51, 51} {
		if !near(aps[i], 100*want/101) {
			t.Errorf("COCO AP at IoU %.2f = %v, want %v", COCOIoUs[i], aps[i], 100*want/101)
		}
	}
	e := NewEvaluator([]string{"a", "b"})
	for i := range gts {
		extra := det(bx(0, 0, 5, 5), 0.99)
		extra.Box.Class = 1 // a class without ground truth: NaN, left out of the means
		e.Add(gts[i], append(dets[i], extra))
	}
	r := e.Evaluate()
	if !near(r.AP50, 100*8.5/11) || !near(r.AP75, 7600.0/101) || !near(r.AP, 100*710.0/1010) || !near(r.CAP50, 7600.0/101) {
		t.Errorf("means %+v", r)
	}
	if !math.IsNaN(r.PerClass[1].AP50) || !math.IsNaN(r.PerClass[1].AP) || r.PerClass[0].NumGT != 2 {
		t.Errorf("per class %+v", r.PerClass)
	}
}

// TestThresholdEdges: IoU exactly 0.5 is a miss for VOC (ovmax > 0.5)
// and a hit for COCO (iou ≥ 0.5).
func TestThresholdEdges(t *testing.T) {
	gts := [][]dataset.Box{{bx(0, 0, 10, 10)}}
	dets := [][]Detection{{det(bx(0, 0, 10, 5), 1)}}
	if got := VOCAP(gts, dets, 0, 0.5, true); got != 0 {
		t.Errorf("VOC AP50 at IoU = 0.5 exactly: %v, want 0", got)
	}
	if got := COCOAP(gts, dets, 0, 100); !near(got[0], 100) || got[1] != 0 {
		t.Errorf("COCO AP at .5/.55: %v %v, want 100, 0", got[0], got[1])
	}
}

// TestCOCOCrowd: a crowd box absorbs any number of detections (IoU over
// the detection's area) and they do not count. Scores put two crowd hits
// before the true positive: ignored, recall 0,0,1,1 and precision
// 0,0,1,.5 give AP 100 at every threshold; counted as false positives
// they would give 1/3.
func TestCOCOCrowd(t *testing.T) {
	crowd := bx(0, 0, 100, 100)
	crowd.Crowd = true
	gts := [][]dataset.Box{{crowd, bx(0, 0, 10, 10)}}
	dets := [][]Detection{{det(bx(50, 50, 60, 60), .9), det(bx(20, 20, 30, 30), .8), det(bx(0, 0, 10, 10), .7), det(bx(200, 200, 210, 210), .6)}}
	for i, ap := range COCOAP(gts, dets, 0, 100) {
		if !near(ap, 100) {
			t.Errorf("IoU %.2f: AP %v, want 100", COCOIoUs[i], ap)
		}
	}
	gts[0][0].Crowd = false
	// Now a plain 100×100 box: the two detections inside it are false
	// positives (IoU 0.01), precision at full recall 1/3; the big box is
	// never found: recall 1/2 at most. Envelope 1/3 over 51 recall points.
	if got := COCOAP(gts, dets, 0, 100)[0]; !near(got, 100*(51.0/3)/101) {
		t.Errorf("without crowd: %v, want %v", got, 100*(51.0/3)/101)
	}
}

// TestCOCOMaxDets: only the best maxDets detections of an image count.
func TestCOCOMaxDets(t *testing.T) {
	gts := [][]dataset.Box{{bx(0, 0, 10, 10)}}
	dets := [][]Detection{{det(bx(50, 50, 60, 60), .9), det(bx(70, 70, 80, 80), .8), det(bx(0, 0, 10, 10), .1)}}
	if got := COCOAP(gts, dets, 0, 2)[0]; got != 0 {
		t.Errorf("maxDets 2: %v, want 0", got)
	}
	// With all three: recall reaches 1 at precision 1/3.
	if got := COCOAP(gts, dets, 0, 3)[0]; !near(got, 100.0/3) {
		t.Errorf("maxDets 3: %v, want 33.33", got)
	}
}

// TestVOC07Points: a perfect detector scores 100; one that finds half the
// boxes at precision 1 scores 6/11 (recall points 0…0.5).
func TestVOC07Points(t *testing.T) {
	gts := [][]dataset.Box{{bx(0, 0, 10, 10), bx(20, 20, 30, 30)}}
	if got := VOCAP(gts, [][]Detection{{det(bx(0, 0, 10, 10), 1), det(bx(20, 20, 30, 30), .5)}}, 0, .5, true); !near(got, 100) {
		t.Errorf("perfect: %v", got)
	}
	if got := VOCAP(gts, [][]Detection{{det(bx(0, 0, 10, 10), 1)}}, 0, .5, true); !near(got, 600.0/11) {
		t.Errorf("half: %v, want %v", got, 600.0/11)
	}
	// A detection matched to a difficult box is not a false positive.
	gts[0][1].Difficult = true
	if got := VOCAP(gts, [][]Detection{{det(bx(20, 20, 30, 30), 1), det(bx(0, 0, 10, 10), .5)}}, 0, .5, true); !near(got, 100) {
		t.Errorf("difficult: %v, want 100", got)
	}
}
