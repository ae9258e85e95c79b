package data

import (
	"testing"

	"github.com/contrastive-ssl/contrastive/augment"
)

// TestSubsetSpreadsEvenly takes 20 of 100 images sorted by class (as an
// image folder is): every class must be represented.
func TestSubsetSpreadsEvenly(t *testing.T) {
	imgs := make([]*augment.Image, 100)
	labels := make([]int, 100)
	for i := range imgs {
		imgs[i] = &augment.Image{H: 2, W: 2, C: 1, Pix: []float32{float32(i) / 255, 0, 0, 0}}
		labels[i] = i / 10
	}
	ds, err := FromImages("sorted", imgs, labels, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := Subset(ds, 20)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Len() != 20 {
		t.Fatalf("Len = %d, want 20", sub.Len())
	}
	counts := make([]int, 10)
	for i := range sub.Len() {
		// image i of the subset is image 5i of ds
		if got, want := sub.Label(i), ds.Label(5*i); got != want {
			t.Fatalf("label %d = %d, want %d (image %d of ds)", i, got, want, 5*i)
		}
		a, _ := sub.Image(i)
		b, _ := ds.Image(5 * i)
		for k := range a.Pix {
			if a.Pix[k] != b.Pix[k] {
				t.Fatalf("image %d differs from image %d of ds", i, 5*i)
			}
		}
		counts[sub.Label(i)]++
	}
	for k, c := range counts {
		if c == 0 {
			t.Errorf("class %d missing from the subset: %v", k, counts)
		}
	}
	if whole, _ := Subset(ds, 100); whole != ds {
		t.Errorf("Subset(ds, Len) should return ds")
	}
	if _, err := Subset(ds, 0); err == nil {
		t.Errorf("Subset(ds, 0): want an error")
	}
}
