package detection_test

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/detection"
	"github.com/contrastive-ssl/contrastive/detection/dataset"
)

// Two boxes, three detections: the best-scoring one is right, the second
// misses (IoU 1/3), the third finds the second box (IoU 0.9). Recall .5,
// .5, 1 at precision 1, .5, 2/3: VOC07 AP50 = (6·1 + 5·2/3)/11; COCO
// reads 1 at 51 recall points and 2/3 at 50 for IoU ≤ 0.9, and loses the
// third box at 0.95.
func ExampleEvaluator() {
	box := func(x0, y0, x1, y1 float64) dataset.Box { return dataset.Box{X0: x0, Y0: y0, X1: x1, Y1: y1} }
	ev := detection.NewEvaluator([]string{"person"})
	ev.Add([]dataset.Box{box(0, 0, 10, 10), box(20, 0, 30, 10)}, []detection.Detection{
		{Box: box(0, 0, 10, 10), Score: 0.9},
		{Box: box(25, 0, 35, 10), Score: 0.8},
		{Box: box(20, 0, 30, 9), Score: 0.7},
	})
	r := ev.Evaluate()
	fmt.Printf("VOC07 AP50 %.2f%%, COCO AP %.2f%%, AP75 %.2f%%\n", r.AP50, r.AP, r.AP75)
	// Output:
	// VOC07 AP50 84.85%, COCO AP 80.20%, AP75 83.50%
}
