package augment

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// ViewSpec describes one view's pipeline as data, the union of the knobs of
// the papers' recipes (lightly's transform arguments). Pipeline builds it
// in the order: RandomResizedCrop, horizontal flip, colour (jitter and
// grayscale, in the order GrayFirst says), blur, solarize, jigsaw, Normalize.
// Flipping commutes with every later step, so its position does not matter.
type ViewSpec struct {
	Size          int   // output side of RandomResizedCrop
	Scale         Range // RandomResizedCrop area range
	Interpolation Interpolation
	FlipP         float64    // RandomHorizontalFlip probability
	Jitter        [4]float64 // ColorJitter's brightness, contrast, saturation, hue; all zero: none
	JitterP       float64    // RandomApply probability of the jitter
	GrayP         float64    // RandomGrayscale probability
	GrayFirst     bool       // grayscale before jitter (MoCo v1, InstDisc on ImageNet)
	BlurP         float64    // RandomApply probability of GaussianBlur
	BlurKernel    int        // 0: KernelSizeFor(Size)
	BlurSigma     Range      // zero: (0.1, 2)
	SolarizeP     float64    // RandomSolarize probability (threshold 0.5)
	// Jigsaw, if set, cuts the crop into a jigsaw strip (Jigsaw.Apply) and
	// applies the colour, blur and solarize steps to every patch.
	Jigsaw    *JigsawSpec
	Mean, Std []float32 // Normalize; nil: none
}

// JigsawSpec configures the jigsaw step of a ViewSpec.
type JigsawSpec struct {
	Grid, Patch int
	Perms       int // size of the permutation set; 0: DefaultPermutations
}

// Pipeline builds the view's transforms.
func (s ViewSpec) Pipeline() Transform {
	if s.Size < 1 {
		panic(fmt.Sprintf("augment.ViewSpec.Pipeline: size %d", s.Size))
	}
	p := Compose{&RandomResizedCrop{Size: Square(s.Size), Scale: s.Scale, Ratio: Range{3.0 / 4, 4.0 / 3}, Interpolation: s.Interpolation}}
	if s.FlipP > 0 {
		p = append(p, &RandomHorizontalFlip{P: s.FlipP})
	}
	var colour Compose
	var jitter Transform
	if s.Jitter != [4]float64{} && s.JitterP > 0 {
		jitter = NewColorJitter(s.Jitter[0], s.Jitter[1], s.Jitter[2], s.Jitter[3])
		if s.JitterP < 1 {
			jitter = &RandomApply{P: s.JitterP, T: jitter}
		}
	}
	var gray Transform
	if s.GrayP > 0 {
		gray = &RandomGrayscale{P: s.GrayP}
	}
	first, second := jitter, gray
	if s.GrayFirst {
		first, second = gray, jitter
	}
	for _, t := range []Transform{first, second} {
		if t != nil {
			colour = append(colour, t)
		}
	}
	if s.BlurP > 0 {
		side := s.Size
		if s.Jigsaw != nil {
			side = s.Jigsaw.Patch
		}
		k := s.BlurKernel
		if k == 0 {
			k = KernelSizeFor(side)
		}
		b := NewGaussianBlur(k)
		if s.BlurSigma != (Range{}) {
			b.Sigma = s.BlurSigma
		}
		colour = append(colour, &RandomApply{P: s.BlurP, T: b})
	}
	if s.SolarizeP > 0 {
		colour = append(colour, &RandomSolarize{Threshold: 0.5, P: s.SolarizeP})
	}
	if s.Jigsaw != nil {
		j := &Jigsaw{Grid: s.Jigsaw.Grid, Patch: s.Jigsaw.Patch}
		if s.Jigsaw.Perms > 0 {
			j.Perms = PermutationSet(j.Grid, s.Jigsaw.Perms, PermutationSeed)
		}
		if len(colour) > 0 {
			j.PatchTransform = colour
		}
		p = append(p, j)
	} else {
		p = append(p, colour...)
	}
	if s.Mean != nil {
		p = append(p, &Normalize{Mean: s.Mean, Std: s.Std})
	}
	return p
}

// Variant selects a paper's ImageNet recipe or its small-image (CIFAR)
// recipe, which drops the blur and uses the crop scales and colour
// strengths that solo-learn and lightly use on 32×32 images.
type Variant uint8

const (
	// Auto is Small for views of at most 64 pixels, else Large.
	Auto Variant = iota
	// Large is the paper's ImageNet recipe.
	Large
	// Small is the CIFAR recipe.
	Small
)

// SmallMaxSize is the largest view size for which Auto picks Small.
const SmallMaxSize = 64

func (v Variant) small(size int) bool { return v == Small || (v == Auto && size <= SmallMaxSize) }

// forData adapts a spec to the data: the normalisation of the dataset
// family (CIFAR-10 for small RGB views, ImageNet for large ones, MNIST for
// 1-channel data) and, for 1-channel data, no saturation, hue or
// grayscale (they are identities on gray images and would only consume
// random numbers).
func forData(s ViewSpec, channels int, small bool) ViewSpec {
	switch {
	case channels == 1:
		s.Jitter[2], s.Jitter[3] = 0, 0
		s.GrayP = 0
		s.Mean, s.Std = MNISTMean, MNISTStd
	case small:
		s.Mean, s.Std = CIFAR10Mean, CIFAR10Std
	default:
		s.Mean, s.Std = ImageNetMean, ImageNetStd
	}
	return s
}

func checkGeometry(op string, size, channels int) {
	if size < 8 || (channels != 1 && channels != 3) {
		panic(fmt.Sprintf("augment.%s: size %d channels %d (want size >= 8 and 1 or 3 channels)", op, size, channels))
	}
}

func variantName(base string, small bool) string {
	if small {
		return base + "-cifar"
	}
	return base + "-imagenet"
}

func views(name string, spec ViewSpec, n int) *MultiView {
	mv := &MultiView{Name: name, Mean: spec.Mean, Std: spec.Std}
	for range n {
		mv.Pipelines = append(mv.Pipelines, spec.Pipeline())
	}
	return mv
}

// SimCLR is the augmentation of SimCLR (Chen et al., arXiv:2002.05709,
// Appendix A): "random crop and resize to original size with random flip,
// color distortions, and Gaussian blur" — RandomResizedCrop (0.08, 1),
// flip 0.5, ColorJitter(0.8s, 0.8s, 0.8s, 0.2s) applied with p = 0.8,
// grayscale 0.2, blur with p = 0.5, σ ∈ [0.1, 2.0] and a kernel of 10% of
// the side; two views. The Small variant drops the blur (Appendix B.9:
// CIFAR-10 uses no blur and s = 0.5, which the caller passes as s).
func SimCLR(s float64, size, channels int, v Variant) *MultiView {
	checkGeometry("SimCLR", size, channels)
	small := v.small(size)
	spec := ViewSpec{Size: size, Scale: Range{0.08, 1}, FlipP: 0.5,
		Jitter: [4]float64{0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s}, JitterP: 0.8, GrayP: 0.2}
	if !small {
		spec.BlurP = 0.5
	}
	return views(variantName("simclr", small), forData(spec, channels, small), 2)
}

// MoCoV1 is MoCo's augmentation (He et al., arXiv:1911.05722, §4; the
// same as InstDisc's): "a 224×224-pixel crop is taken from a randomly
// resized image, and then undergoes random color jittering, random
// horizontal flip, and random grayscale conversion" — in moco/main_moco.py:
// RandomResizedCrop(scale=(0.2, 1)), RandomGrayscale(0.2),
// ColorJitter(0.4, 0.4, 0.4, 0.4), flip; two views. The Small variant is
// the same at the small size.
func MoCoV1(size, channels int, v Variant) *MultiView {
	checkGeometry("MoCoV1", size, channels)
	small := v.small(size)
	spec := ViewSpec{Size: size, Scale: Range{0.2, 1}, FlipP: 0.5,
		Jitter: [4]float64{0.4, 0.4, 0.4, 0.4}, JitterP: 1, GrayP: 0.2, GrayFirst: true}
	return views(variantName("moco-v1", small), forData(spec, channels, small), 2)
}

// MoCoV2 is MoCo v2's augmentation (Chen et al., arXiv:2003.04297; the
// aug_plus branch of moco/main_moco.py): RandomResizedCrop (0.2, 1),
// ColorJitter(0.4, 0.4, 0.4, 0.1) with p = 0.8, grayscale 0.2, blur
// σ ∈ [0.1, 2.0] with p = 0.5, flip; two views. The Small variant drops
// the blur, as solo-learn's and lightly's CIFAR recipes do.
func MoCoV2(size, channels int, v Variant) *MultiView {
	checkGeometry("MoCoV2", size, channels)
	small := v.small(size)
	spec := ViewSpec{Size: size, Scale: Range{0.2, 1}, FlipP: 0.5,
		Jitter: [4]float64{0.4, 0.4, 0.4, 0.1}, JitterP: 0.8, GrayP: 0.2}
	if !small {
		spec.BlurP = 0.5
	}
	return views(variantName("moco-v2", small), forData(spec, channels, small), 2)
}

// InstDisc is the augmentation of instance discrimination (Wu et al.,
// arXiv:1805.01978; zhirongw/lemniscate.pytorch): one view per image (the
// other side of the pair is the memory bank). ImageNet (main.py):
// RandomResizedCrop(scale=(0.2, 1)), RandomGrayscale(0.2),
// ColorJitter(0.4, 0.4, 0.4, 0.4), flip. CIFAR (cifar.py): the same with
// the jitter before the grayscale.
func InstDisc(size, channels int, v Variant) *MultiView {
	checkGeometry("InstDisc", size, channels)
	small := v.small(size)
	spec := ViewSpec{Size: size, Scale: Range{0.2, 1}, FlipP: 0.5,
		Jitter: [4]float64{0.4, 0.4, 0.4, 0.4}, JitterP: 1, GrayP: 0.2, GrayFirst: !small}
	return views(variantName("instdisc", small), forData(spec, channels, small), 1)
}

// PIRL is the augmentation of PIRL (Misra & van der Maaten,
// arXiv:1912.01991): view 0 is the image I (InstDisc's augmentation, as
// PIRL builds on its memory bank), view 1 the jigsaw transform I^t: "we
// extract nine image patches from a 255×255 crop", each a 64×64 patch
// cropped inside its 85×85 cell, shuffled, with the colour jitter and
// grayscale applied per patch (the per-patch choice and the (0.6, 1) crop
// scale of the jigsaw region are ours where the paper is silent). View 1 is
// a strip (Jigsaw.Apply): 9 patches stacked vertically. The Small variant
// crops a region of the view size rounded up to a multiple of 3, with
// patches of three quarters of the cell (9×9 for 32×32 images).
func PIRL(size, channels int, v Variant) *MultiView {
	checkGeometry("PIRL", size, channels)
	small := v.small(size)
	image := ViewSpec{Size: size, Scale: Range{0.2, 1}, FlipP: 0.5,
		Jitter: [4]float64{0.4, 0.4, 0.4, 0.4}, JitterP: 1, GrayP: 0.2, GrayFirst: !small}
	region := 3 * int(math.Ceil(float64(size)/3))
	if !small {
		region = 3 * int(math.Ceil(float64(size)*255/224/3))
	}
	cell := region / 3
	jig := ViewSpec{Size: region, Scale: Range{0.6, 1}, FlipP: 0.5,
		Jitter: [4]float64{0.4, 0.4, 0.4, 0.4}, JitterP: 0.8, GrayP: 0.2,
		Jigsaw: &JigsawSpec{Grid: 3, Patch: cell - cell/4}}
	image, jig = forData(image, channels, small), forData(jig, channels, small)
	return &MultiView{Name: variantName("pirl", small), Mean: image.Mean, Std: image.Std,
		Pipelines: []Transform{image.Pipeline(), jig.Pipeline()}, JigsawGrid: []int{0, 3}}
}

// SwAV is SwAV's multi-crop augmentation (Caron et al., arXiv:2006.09882,
// §3 and main_swav.py): 2 global crops of the view size with scale
// (0.14, 1) and 6 local crops of 96/224 of it with scale (0.05, 0.14), all
// with flip, ColorJitter(0.8, 0.8, 0.8, 0.2) at p = 0.8, grayscale 0.2
// and blur at p = 0.5. The Small variant drops the blur and makes the
// local crops half the view size with scale (0.1, 0.3): at the paper's
// (0.05, 0.14) a local crop of a 28×28 digit or a 32×32 CIFAR image is a
// 6–12 pixel patch, mostly background, and SwAV on MNIST with them did
// not beat a random-init encoder (40% against 59% kNN; 2 crops: 65%).
func SwAV(size, channels int, v Variant) *MultiView {
	checkGeometry("SwAV", size, channels)
	small := v.small(size)
	local := int(math.Round(float64(size) * 96 / 224))
	if small {
		local = max(size/2, 4)
	}
	base := ViewSpec{FlipP: 0.5, Jitter: [4]float64{0.8, 0.8, 0.8, 0.2}, JitterP: 0.8, GrayP: 0.2}
	if !small {
		base.BlurP = 0.5
	}
	global, loc := base, base
	global.Size, global.Scale = size, Range{0.14, 1}
	loc.Size, loc.Scale = local, Range{0.05, 0.14}
	if small {
		loc.Scale = Range{0.1, 0.3}
	}
	return MultiCrop(variantName("swav", small), []CropGroup{
		{N: 2, Spec: forData(global, channels, small)},
		{N: 6, Spec: forData(loc, channels, small)},
	})
}

// CropGroup is N views built from the same spec.
type CropGroup struct {
	N    int
	Spec ViewSpec
}

// MultiCrop returns the views of the groups in order, e.g. two global and
// six local crops (SwAV). Every group must use the same normalisation.
func MultiCrop(name string, groups []CropGroup) *MultiView {
	mv := &MultiView{Name: name}
	for i, g := range groups {
		if i == 0 {
			mv.Mean, mv.Std = g.Spec.Mean, g.Spec.Std
		}
		for range g.N {
			mv.Pipelines = append(mv.Pipelines, g.Spec.Pipeline())
		}
	}
	return mv
}

var presets = map[string]func(size, channels int, v Variant) *MultiView{
	"simclr": func(size, channels int, v Variant) *MultiView {
		s := 1.0
		if v.small(size) {
			s = 0.5
		}
		return SimCLR(s, size, channels, v)
	},
	"moco-v1":  MoCoV1,
	"moco-v2":  MoCoV2,
	"instdisc": InstDisc,
	"pirl":     PIRL,
	"swav":     SwAV,
}

// PresetNames lists the base names Preset accepts.
func PresetNames() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Preset returns a paper's augmentation by name for views of imageSize
// pixels (the side of the main views; for ImageNet-style data typically
// 224, for CIFAR 32) and 1- or 3-channel images.
//
// Names are simclr (s = 1, or 0.5 for the small variant), moco-v1, moco-v2,
// instdisc, pirl and swav. The variant follows imageSize (Small at most
// SmallMaxSize = 64, else Large) unless the name ends in "-cifar" (Small)
// or "-imagenet" (Large). 1-channel data gets the grayscale variant: no
// saturation, hue or grayscale steps and MNIST's normalisation.
func Preset(name string, imageSize, channels int) (*MultiView, error) {
	base, v := name, Auto
	if b, ok := strings.CutSuffix(name, "-cifar"); ok {
		base, v = b, Small
	} else if b, ok := strings.CutSuffix(name, "-imagenet"); ok {
		base, v = b, Large
	}
	f, ok := presets[base]
	if !ok {
		return nil, fmt.Errorf("augment: unknown preset %q (want one of %s, optionally with -cifar or -imagenet)",
			name, strings.Join(PresetNames(), ", "))
	}
	if imageSize < 8 {
		return nil, fmt.Errorf("augment: preset %s: image size %d is too small (want at least 8)", name, imageSize)
	}
	if channels != 1 && channels != 3 {
		return nil, fmt.Errorf("augment: preset %s: %d channels (want 1 or 3)", name, channels)
	}
	return f(imageSize, channels, v), nil
}
