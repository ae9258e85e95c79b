package augment

import "math"

// ResizeShorter resizes img so that its shorter side is short pixels,
// keeping the aspect ratio as torchvision's Resize(int) does (the longer
// side becomes int(short*long/shorter), truncated), bilinear with
// antialiasing as PIL resamples.
func ResizeShorter(img *Image, short int) *Image {
	img.check("ResizeShorter")
	h, w := img.H, img.W
	if h <= w {
		h, w = short, int(float64(short)*float64(img.W)/float64(img.H))
	} else {
		h, w = int(float64(short)*float64(img.H)/float64(img.W)), short
	}
	if h == img.H && w == img.W {
		return img
	}
	return Resize(img, Size{max(h, 1), max(w, 1)}, Bilinear, true)
}

// EvalShort is the shorter side torchvision's evaluation transform resizes
// to before cutting the size×size centre: round(size/0.875), 256 for 224.
func EvalShort(size int) int { return int(math.Round(float64(size) / 0.875)) }

// EvalView is torchvision's evaluation transform for a model trained at
// size×size: Resize(round(size/0.875)) of the shorter side, then
// CenterCrop(size). An image already size×size is returned unchanged, so
// fixed-size datasets (MNIST, CIFAR) evaluate on their own pixels.
func EvalView(img *Image, size int) *Image {
	if img.H == size && img.W == size {
		return img
	}
	return CenterCrop(ResizeShorter(img, EvalShort(size)), Square(size))
}
