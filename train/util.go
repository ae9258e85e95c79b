package train

import (
	"bytes"
	"fmt"
	"io"

	"contrastive/augment"
	"contrastive/data"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// subset is the dataset restricted to n images spread evenly over it (a
// fixed stride, so every class of a sorted folder is represented).
type subset struct {
	data.Dataset
	n int
}

func newSubset(ds data.Dataset, n int) data.Dataset { return subset{ds, n} }

func (s subset) idx(i int) int                       { return int(int64(i) * int64(s.Dataset.Len()) / int64(s.n)) }
func (s subset) Len() int                            { return s.n }
func (s subset) Image(i int) (*augment.Image, error) { return s.Dataset.Image(s.idx(i)) }
func (s subset) Label(i int) int                     { return s.Dataset.Label(s.idx(i)) }
func (s subset) Name() string {
	return fmt.Sprintf("%s[%d of %d]", s.Dataset.Name(), s.n, s.Dataset.Len())
}
