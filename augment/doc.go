// Package augment implements the pretext tasks of contrastive learning as
// image augmentations: colour (jitter, grayscale, blur, solarize), geometry
// (random resized crop, flip, rotation), context (jigsaw) and multi-crop,
// with torchvision's parameter names and defaults, and the presets of the
// papers (SimCLR, MoCo v1/v2, InstDisc, PIRL, SwAV).
//
// # Overview
//
// Images are [Image] values: HWC float32 in [0, 1], 1 or 3 channels.
//
// Deterministic operations mirror torchvision.transforms.functional on
// float tensors: [ResizedCrop], [Resize], [Crop], [CenterCrop], [HFlip],
// [Rotate], [Rot90], [AdjustBrightness], [AdjustContrast],
// [AdjustSaturation], [AdjustHue], [ToGrayscale], [Blur], [Solarize].
// Each is tested against torchvision 0.14's output for fixed parameters
// (testdata/*.safetensors, written by tools/gen_augment_fixtures.py); they
// agree within float32 rounding (at most 1e-5, the blur 1e-4), far inside
// the 1/255 the project asks for.
//
// Pipeline steps implement [Transform]; the random ones draw every
// parameter from a caller's math/rand/v2 generator, so a seed fixes the
// views:
// [RandomResizedCrop], [RandomHorizontalFlip], [RandomRotation],
// [ColorJitter], [RandomGrayscale], [GaussianBlur], [RandomSolarize],
// [Normalize], [Jigsaw], composed with [Compose] and [RandomApply].
// [RandomRot90] is RotNet's four-way rotation with its label. Their Params
// methods expose the drawn parameters (torchvision's get_params).
//
// A [MultiView] makes the views of one image, one pipeline per view; its
// Views method is the data loader's view function. Presets are data: a
// [ViewSpec] per view, built by [SimCLR], [MoCoV1], [MoCoV2], [InstDisc],
// [PIRL], [SwAV] and [MultiCrop], or by name with [Preset]. Each has an
// ImageNet (Large) and a CIFAR (Small) variant, and a grayscale variant
// for 1-channel data.
//
// # Differences from torchvision
//
//   - Resizing follows torch's tensor path (interpolate, align_corners
//     False, antialias off unless asked), not PIL's; bicubic results are
//     clamped to [0, 1].
//   - [ToGrayscale] of a 1-channel image with 3 output channels returns 3
//     channels (torchvision returns 1).
//   - [Blur] skips outer kernel taps worth less than 2.5e-5 per side and
//     renormalises the rest, and accepts kernels wider than the image.
//   - [AdjustHue] computes torchvision's HSV round trip in a folded form;
//     it agrees to about 1e-6.
//
// # Buffers and concurrency
//
// A Transform never modifies its input. Inside a [Compose] (and so a
// [MultiView]) the first step that makes a new image hands it on, and the
// pixel-wise steps after it work in place, so a view costs one allocation
// per geometric step. Transforms hold no mutable state: one [MultiView]
// may serve many goroutines, each with its own generator.
//
// # Errors
//
// Operations panic, naming the operation and the sizes, on programmer
// errors: a malformed image, a crop box outside the image, a negative
// factor. [Preset] returns an error for a name, size or channel count
// that comes from the user.
//
// # Performance
//
// Everything runs on float32 HWC with 3-channel fast paths: resampling by
// precomputed per-row and per-column taps in two separable passes, a
// separable symmetric blur, the colour jitter fused into at most two
// passes over the pixels. [Throughput] measures a preset on all cores (the
// "contrastive bench augment" command).
package augment
