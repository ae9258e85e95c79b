package video_test

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/video"
)

// Four evaluation clips of 8 frames, 2 apart (a span of 15 frames), spread
// over a 71-frame video: the first starts at frame 0, the last ends on
// frame 70.
func ExampleClipSpec_EvenStarts() {
	s := video.ClipSpec{Frames: 8, Stride: 2, Size: 56}
	fmt.Println(s.Span(), s.EvenStarts(71, 4))
	// Output: 15 [0 19 37 56]
}
