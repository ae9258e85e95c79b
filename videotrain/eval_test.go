package videotrain

import (
	"testing"

	"github.com/contrastive-ssl/contrastive/tensor"
)

// TestScore checks clip- and video-level top-1 on hand-made logits: two
// videos of two clips each, three classes. Video 0 (label 2) has one
// right clip and a confidently right average; video 1 (label 0) has one
// right clip but the other clip's confident error decides its average.
func TestScore(t *testing.T) {
	logits := tensor.FromSlice([]float32{
		0, 0, 5, // video 0 clip 0: 2 ✓
		1, 0, 0.5, // video 0 clip 1: 0 ✗
		0.2, 0, 0, // video 1 clip 0: 0 ✓ (barely)
		0, 6, 0, // video 1 clip 1: 1 ✗ (confident)
	}, 4, 3)
	r := score(logits, []int{2, 0}, 2, 3)
	if r.ClipTop1 != 50 || r.VideoTop1 != 50 || r.Clips != 4 || r.Videos != 2 {
		t.Errorf("score = %+v, want clip 50, video 50 (video 0 right, video 1 wrong), 4 clips, 2 videos", r)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{Method: "byol"},
		{Pretext: "jigsaw"},
		{Pretext: PretextCrossModal, Method: MethodMoCo},
		{Arch: "r2plus1d_18", Init2D: "x"},
		{Batch: 1},
		{Size: 100},
	} {
		c.Defaults()
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	var c Config
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
