package eval

import (
	"fmt"

	"contrastive/augment"
	"contrastive/autograd"
	"contrastive/data"
	"contrastive/models"
	"contrastive/nn"
	"contrastive/tensor"
)

// Features runs the encoder in evaluation mode (batch norm with running
// statistics, no graph) over every image of ds and returns the pooled
// features [N, D] and the labels. prep turns a dataset image into the
// encoder's input (normalisation, a centre crop); nil means none. The
// encoder is returned to training mode afterwards; its weights and
// buffers are not changed.
func Features(enc *models.ResNet, ds data.Dataset, batch int, prep func(*augment.Image) *augment.Image) (*tensor.Tensor, []int, error) {
	n := ds.Len()
	if batch <= 0 {
		batch = 256
	}
	d := enc.FeatureDim()
	out := tensor.New(n, d)
	labels := make([]int, n)
	nn.SetTraining(enc, false)
	defer nn.SetTraining(enc, true)
	imgs := make([]*augment.Image, 0, batch)
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		imgs = imgs[:0]
		for i := lo; i < hi; i++ {
			img, err := ds.Image(i)
			if err != nil {
				return nil, nil, fmt.Errorf("features of %s: %w", ds.Name(), err)
			}
			if prep != nil {
				img = prep(img)
			}
			if len(imgs) > 0 && (img.H != imgs[0].H || img.W != imgs[0].W || img.C != imgs[0].C) {
				return nil, nil, fmt.Errorf("features of %s: image %d is %dx%dx%d, image %d is %dx%dx%d (use a centre crop)",
					ds.Name(), i, img.H, img.W, img.C, lo, imgs[0].H, imgs[0].W, imgs[0].C)
			}
			imgs = append(imgs, img)
			labels[i] = ds.Label(i)
		}
		x := augment.Stack(imgs)
		autograd.Inference(func(func(*autograd.Value)) {
			f := enc.Forward(autograd.Const(x))
			copy(out.Data[lo*d:hi*d], f.Data.Data)
		})
		tensor.Put(x)
	}
	return out, labels, nil
}
