package augment

import "testing"

func TestEvalView(t *testing.T) {
	if EvalShort(224) != 256 || EvalShort(32) != 37 {
		t.Fatalf("EvalShort(224)=%d EvalShort(32)=%d, want 256 and 37", EvalShort(224), EvalShort(32))
	}
	img := NewImage(300, 400, 3)
	for i := range img.Pix {
		img.Pix[i] = float32(i%7) / 7
	}
	r := ResizeShorter(img, 256)
	if r.H != 256 || r.W != 341 { // int(256*400/300) = 341, as torchvision
		t.Fatalf("ResizeShorter: %dx%d, want 256x341", r.H, r.W)
	}
	tall := ResizeShorter(NewImage(500, 100, 1), 50)
	if tall.H != 250 || tall.W != 50 {
		t.Fatalf("ResizeShorter tall: %dx%d, want 250x50", tall.H, tall.W)
	}
	v := EvalView(img, 224)
	if v.H != 224 || v.W != 224 || v.C != 3 {
		t.Fatalf("EvalView: %dx%dx%d", v.H, v.W, v.C)
	}
	small := NewImage(20, 30, 3) // smaller than the crop: upscaled first
	if s := EvalView(small, 32); s.H != 32 || s.W != 32 {
		t.Fatalf("EvalView of a small image: %dx%d", s.H, s.W)
	}
	same := NewImage(32, 32, 3)
	if EvalView(same, 32) != same {
		t.Fatal("EvalView changed an image already at the size")
	}
}
