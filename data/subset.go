package data

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/augment"
)

// Subset returns n images of ds spread evenly over it (image i of the
// subset is image ⌊i·Len/n⌋ of ds), so every class of a class-sorted
// folder is represented and the same arguments always pick the same
// images. The subset is numbered 0..n-1, stable indices for the methods
// that keep one memory slot per image (InstDisc, PIRL). n >= ds.Len()
// returns ds; n < 1 is an error.
func Subset(ds Dataset, n int) (Dataset, error) {
	if n < 1 {
		return nil, fmt.Errorf("data: subset of %s: size %d, want at least 1", ds.Name(), n)
	}
	if n >= ds.Len() {
		return ds, nil
	}
	return subset{ds, n}, nil
}

// subset is a view of n evenly spread images of a dataset.
type subset struct {
	Dataset
	n int
}

func (s subset) idx(i int) int                       { return int(int64(i) * int64(s.Dataset.Len()) / int64(s.n)) }
func (s subset) Len() int                            { return s.n }
func (s subset) Image(i int) (*augment.Image, error) { return s.Dataset.Image(s.idx(i)) }
func (s subset) Label(i int) int                     { return s.Dataset.Label(s.idx(i)) }
func (s subset) Name() string {
	return fmt.Sprintf("%s[%d of %d]", s.Dataset.Name(), s.n, s.Dataset.Len())
}
