package train

import (
	"fmt"
	"io"

	"github.com/contrastive-ssl/contrastive/augment"
	"github.com/contrastive-ssl/contrastive/data"
)

// OpenOptions are the data.OpenOptions of the run's datasets: SkipBad,
// MaxMemory and MaxPixels, warnings to warn.
func (c Config) OpenOptions(warn io.Writer) (data.OpenOptions, error) {
	mem, err := data.ParseSize(c.MaxMemory)
	if err != nil {
		return data.OpenOptions{}, fmt.Errorf("config: max_memory: %w", err)
	}
	return data.OpenOptions{SkipBad: c.SkipBad, Warn: warn, MaxMemory: mem, MaxPixels: c.MaxPixels}, nil
}

// DefaultImageSize is the training size of a dataset whose images differ
// in size: ImageNet's 224.
const DefaultImageSize = 224

// ImageSizeFor resolves a configured image size (0: automatic) for a
// dataset of shape h×w (0×0 when its images differ in size): the
// configured size, else the dataset's shorter side, else
// DefaultImageSize.
func ImageSizeFor(configured, h, w int) int {
	switch {
	case configured > 0:
		return configured
	case min(h, w) > 0:
		return min(h, w)
	}
	return DefaultImageSize
}

// EvalPrep is the preprocessing of evaluation and feature extraction for
// an encoder trained on size×size views: torchvision's eval transform
// (augment.EvalView: Resize(round(size/0.875)) of the shorter side, then
// CenterCrop(size); an image already size×size is kept as it is), then
// normalisation with mean and std (none when mean is nil).
func EvalPrep(size int, mean, std []float32) func(*augment.Image) *augment.Image {
	var norm *augment.Normalize
	if mean != nil {
		norm = &augment.Normalize{Mean: mean, Std: std}
	}
	return func(img *augment.Image) *augment.Image {
		img = augment.EvalView(img, size)
		if norm != nil {
			img = norm.Apply(img, nil)
		}
		return img
	}
}
