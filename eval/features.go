package eval

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/data"
	"github.com/contrastive-ssl/contrastive/models"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Features runs the encoder in evaluation mode (batch norm with running
// statistics, folded into the convolutions: models.Inference; no graph)
// over every image of ds and returns the pooled features [N, D] and the
// labels. prep turns a dataset image into the encoder's input
// (normalisation, a centre crop); nil means none. The encoder's weights,
// buffers and training mode are not changed.
func Features(enc *models.ResNet, ds data.Dataset, batch int, prep func(*augment.Image) *augment.Image) (*tensor.Tensor, []int, error) {
	inf := models.NewInference(enc)
	return Embed(ds, batch, prep, inf.Forward, enc.FeatureDim())
}

// Embed maps every image of ds through embed, batch images at a time, and
// returns the rows [N, dim] and the labels. embed receives a stacked
// batch x [B, H, W, C] (after prep) and writes its B×dim outputs to out;
// it must leave the networks it runs as it found them. Bank methods use it
// with their projection head (methods.BankEvaluator.Embed).
func Embed(ds data.Dataset, batch int, prep func(*augment.Image) *augment.Image, embed func(x *tensor.Tensor, out []float32), dim int) (*tensor.Tensor, []int, error) {
	n := ds.Len()
	if batch <= 0 {
		batch = 256
	}
	out := tensor.New(n, dim)
	labels := make([]int, n)
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
		embed(x, out.Data[lo*dim:hi*dim])
		tensor.Put(x)
	}
	return out, labels, nil
}
