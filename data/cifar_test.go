package data

import (
	"fmt"
	"path/filepath"
	"testing"
)

// cifarRecords encodes n CIFAR records (labels then planar RGB) whose image
// i has pixel (y, x, c) = testPix(i, y, x) + 50c.
func cifarRecords(n int, labels func(i int) []uint8) []byte {
	var b []byte
	for i := range n {
		b = append(b, labels(i)...)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					b = append(b, testPix(i, y, x)+uint8(50*c))
				}
			}
		}
	}
	return b
}

func checkCIFARPixels(t *testing.T, ds Dataset, i int) {
	t.Helper()
	img, err := ds.Image(i)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][3]int{{0, 0, 0}, {5, 17, 1}, {31, 30, 2}} {
		y, x, c := p[0], p[1], p[2]
		want := float32(testPix(i, y, x)+uint8(50*c)) / 255
		if got := img.Pix[(y*32+x)*3+c]; got != want {
			t.Errorf("%s image %d pixel (%d,%d,%d) = %v, want %v", ds.Name(), i, y, x, c, got, want)
		}
	}
}

func TestCIFAR10Folder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "cifar-10-batches-bin")
	one := func(i int) []uint8 { return []uint8{uint8(i % 10)} }
	// data_batch_10 must sort after data_batch_2.
	writeFile(t, dir, "data_batch_2.bin", cifarRecords(3, func(i int) []uint8 { return one(i + 3) }))
	writeFile(t, dir, "data_batch_10.bin", cifarRecords(2, func(i int) []uint8 { return []uint8{9} }))
	writeFile(t, dir, "data_batch_1.bin", cifarRecords(3, one))
	writeFile(t, dir, "test_batch.bin", cifarRecords(4, one))
	ds, err := Open(root, OpenOptions{}) // the parent of cifar-10-batches-bin
	if err != nil {
		t.Fatal(err)
	}
	if h, w, c := ds.Shape(); ds.Len() != 8 || h != 32 || w != 32 || c != 3 || ds.NumClasses() != 10 || ds.ClassNames()[3] != "cat" {
		t.Fatalf("%d images %dx%dx%d, classes %v", ds.Len(), h, w, c, ds.ClassNames())
	}
	var labels []int
	for i := range ds.Len() {
		labels = append(labels, ds.Label(i))
	}
	if fmt.Sprint(labels) != "[0 1 2 3 4 5 9 9]" {
		t.Errorf("labels %v, want batches 1, 2, 10 in order: [0 1 2 3 4 5 9 9]", labels)
	}
	checkCIFARPixels(t, ds, 1)
	test, err := Open(dir+":test", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if test.Len() != 4 {
		t.Errorf("test split has %d images, want 4", test.Len())
	}
	checkCIFARPixels(t, test, 3)
}

func TestCIFAR100Folder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "train.bin", cifarRecords(3, func(i int) []uint8 { return []uint8{uint8(i), uint8(90 + i)} }))
	writeFile(t, dir, "test.bin", cifarRecords(1, func(i int) []uint8 { return []uint8{0, 99} }))
	ds, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 || ds.NumClasses() != 100 || ds.Label(2) != 92 || ds.ClassNames()[92] != "92" {
		t.Fatalf("%d images, %d classes, label 2 = %d", ds.Len(), ds.NumClasses(), ds.Label(2))
	}
	checkCIFARPixels(t, ds, 2)
}

func TestCIFARBad(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "data_batch_1.bin", cifarRecords(2, func(int) []uint8 { return []uint8{1} })[:3073+100])
	_, err := Open(dir, OpenOptions{})
	wantFormatError(t, err, "data_batch_1.bin", "whole number")

	dir = t.TempDir()
	writeFile(t, dir, "data_batch_1.bin", cifarRecords(2, func(i int) []uint8 { return []uint8{uint8(10 * i)} }))
	_, err = Open(dir, OpenOptions{})
	wantFormatError(t, err, "data_batch_1.bin", "record 1 has label 10")

	_, err = Open(dir+":test", OpenOptions{})
	wantFormatError(t, err, filepath.Base(dir), "without test_batch.bin")
}
