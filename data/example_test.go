package data_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"slices"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/tensor"
)

func ExampleOpen() {
	ds, err := data.Open("mnist:test", data.OpenOptions{})
	if err != nil {
		log.Fatal(err)
	}
	h, w, c := ds.Shape()
	fmt.Printf("%s: %d images of %dx%dx%d, %d classes, first label %d\n", ds.Name(), ds.Len(), h, w, c, ds.NumClasses(), ds.Label(0))
	// Output: mnist:test: 10000 images of 28x28x1, 10 classes, first label 7
}

// flipViews is a two-view augmentation: the image and, with probability
// 1/2, its mirror image. All randomness comes from rng.
func flipViews(img *augment.Image, rng *rand.Rand) []*augment.Image {
	v := augment.NewImage(img.H, img.W, img.C)
	copy(v.Pix, img.Pix)
	if rng.IntN(2) == 0 {
		for y := range img.H {
			for x := range img.W {
				copy(v.Pix[(y*img.W+x)*img.C:][:img.C], img.Pix[(y*img.W+img.W-1-x)*img.C:][:img.C])
			}
		}
	}
	return []*augment.Image{img, v}
}

func ExampleNewLoader() {
	ds := data.Synthetic(10, 8, 8, 3, 2, 1)
	l, err := data.NewLoader(ds, data.LoaderConfig{BatchSize: 4, Seed: 1, Shuffle: true, DropLast: true, Epochs: 1}, flipViews)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	var seen []int
	for {
		b, err := l.Next()
		if err != nil {
			break // io.EOF after the last epoch
		}
		fmt.Printf("epoch %d step %d: views %v and %v, %d labels\n", b.Epoch, b.Step, b.Views[0].Shape(), b.Views[1].Shape(), len(b.Labels))
		seen = append(seen, b.Indices...)
		for _, v := range b.Views {
			tensor.Put(v) // hand the buffers back for the next batches
		}
	}
	fmt.Println("distinct samples:", len(slices.Compact(slices.Sorted(slices.Values(seen)))), "next:", l.Position())
	// Output:
	// epoch 0 step 0: views [4 8 8 3] and [4 8 8 3], 4 labels
	// epoch 0 step 1: views [4 8 8 3] and [4 8 8 3], 4 labels
	// distinct samples: 8 next: {1 0}
}
