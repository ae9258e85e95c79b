package augment_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/contrastive-ssl/contrastive/augment"
)

// gradient returns an h×w RGB test image: red rises left to right, green
// top to bottom.
func gradient(h, w int) *augment.Image {
	img := augment.NewImage(h, w, 3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := img.Pix[(y*w+x)*3:]
			p[0], p[1], p[2] = float32(x)/float32(w-1), float32(y)/float32(h-1), 0.5
		}
	}
	return img
}

// Two SimCLR views of a CIFAR-sized image: the positive pair.
func ExamplePreset() {
	mv, err := augment.Preset("simclr", 32, 3)
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	views := mv.Views(gradient(32, 32), rng)
	fmt.Println(mv.Name, len(views))
	for _, v := range views {
		fmt.Printf("%dx%dx%d\n", v.H, v.W, v.C)
	}
	// Output:
	// simclr-cifar 2
	// 32x32x3
	// 32x32x3
}

// SwAV's multi-crop: two global and six local views.
func ExampleSwAV() {
	mv := augment.SwAV(224, 3, augment.Auto)
	views := mv.Views(gradient(300, 400), rand.New(rand.NewPCG(1, 2)))
	for _, v := range views {
		fmt.Print(v.H, " ")
	}
	fmt.Println()
	// Output: 224 224 96 96 96 96 96 96
}

// A fixed crop box resized like torchvision's resized_crop.
func ExampleResizedCrop() {
	img := gradient(5, 5) // red = x/4
	out := augment.ResizedCrop(img, 0, 0, 5, 4, augment.Size{H: 2, W: 2}, augment.Bilinear, false)
	// Output column 0 samples x = 2·0.5 - 0.5 = 0.5, column 1 x = 2.5.
	fmt.Printf("%.3f %.3f\n", out.Pix[0], out.Pix[3])
	// Output: 0.125 0.625
}

// ColorJitter with fixed factors, applied in a fixed order.
func ExampleJitterParams() {
	img := augment.NewImage(1, 1, 3)
	copy(img.Pix, []float32{0.8, 0.4, 0.2})
	p := augment.JitterParams{
		Order:      [4]int{augment.JitterBrightness, augment.JitterSaturation, augment.JitterContrast, augment.JitterHue},
		Brightness: 0.5, Contrast: 1, Saturation: 0, Hue: 0,
	}
	out := p.Apply(img) // half as bright, then fully desaturated
	fmt.Printf("%.4f %.4f %.4f\n", out.Pix[0], out.Pix[1], out.Pix[2])
	// Output: 0.2484 0.2484 0.2484
}

// The jigsaw task: nine shuffled patches and the index of the permutation.
func ExampleJigsaw_Patches() {
	j := augment.NewJigsaw(10)
	patches, perm := j.Patches(gradient(36, 36), rand.New(rand.NewPCG(3, 4)))
	set := augment.PermutationSet(3, augment.DefaultPermutations, augment.PermutationSeed)
	fmt.Println(len(patches), patches[0].H, patches[0].W, len(set[perm]))
	// Output: 9 10 10 9
}

// RotNet's four rotations with their labels.
func ExampleRot90() {
	img := augment.NewImage(2, 3, 1)
	copy(img.Pix, []float32{1, 2, 3, 4, 5, 6})
	r := augment.Rot90(img, 1) // counter-clockwise
	fmt.Println(r.H, r.W, r.Pix)
	// Output: 3 2 [3 6 2 5 1 4]
}
