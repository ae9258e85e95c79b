// Package augment implements the pretext tasks of contrastive learning as
// image augmentations: colour (jitter, grayscale, blur, solarize), geometry
// (random resized crop, flip, rotation), context (jigsaw) and multi-crop,
// with torchvision's parameter names and defaults, and the presets of the
// papers (SimCLR, MoCo v1/v2, InstDisc, PIRL, SwAV).
package augment
