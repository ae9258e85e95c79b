package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// gaussianKernel1D is torchvision's _get_gaussian_kernel1d in float32:
// exp(-x²/2σ²) at x = linspace(-(k-1)/2, (k-1)/2, k), normalised to sum 1.
func gaussianKernel1D(k int, sigma float64) []float32 {
	w := make([]float32, k)
	half := float32(k-1) * 0.5
	s := float32(sigma)
	var sum float32
	for i := range w {
		x := -half + float32(i)
		if k > 1 {
			x = -half + float32(i)*(2*half)/float32(k-1)
		}
		z := x / s
		w[i] = float32(math.Exp(float64(-0.5 * z * z)))
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

// blurTailMass bounds the kernel weight dropped from each side of a blur
// kernel: values are in [0, 1], so skipping those taps changes no pixel by
// more than 2·blurTailMass per pass (1e-4 after both, 1/39 of 1/255), and
// it saves a third of the taps at σ = 1.
const blurTailMass = 2.5e-5

// Blur returns img convolved with a kernelSize×kernelSize Gaussian of
// standard deviation sigma, with reflect padding: the result of
// torchvision.transforms.functional.gaussian_blur(img, [k, k], [σ, σ]) on a
// float tensor, computed as two 1-D passes. Outer taps whose weight sums to
// less than 1e-7 per side are skipped. Unlike torch, a kernel wider than
// the image is allowed (the reflection repeats). kernelSize must be odd and
// positive, sigma positive.
func Blur(img *Image, kernelSize int, sigma float64) *Image {
	img.check("Blur")
	checkBlur("Blur", kernelSize, sigma)
	out := img.Clone()
	blurInPlace(out, gaussianKernel1D(kernelSize, sigma))
	return out
}

func checkBlur(op string, k int, sigma float64) {
	if k < 1 || k%2 == 0 {
		panic(fmt.Sprintf("augment.%s: kernel size %d is not odd and positive", op, k))
	}
	if !(sigma > 0) {
		panic(fmt.Sprintf("augment.%s: sigma %g is not positive", op, sigma))
	}
}

// reflect maps i into [0, n) by mirror reflection without repeating the
// edge (torch's "reflect" padding), repeatedly for far-out indices.
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

// blurInPlace convolves img with the separable kernel w (odd length,
// symmetric, modified: its trimmed taps are renormalised):
// vertically into a scratch image, then horizontally back into img.
func blurInPlace(img *Image, w []float32) {
	r := len(w) / 2
	// Trim the tails (the kernel is symmetric).
	var tail float32
	for r > 0 && tail+w[0] < blurTailMass {
		tail += w[0]
		w = w[1 : len(w)-1]
		r--
	}
	if r == 0 {
		return // the centre weight is 1 up to rounding
	}
	if tail > 0 { // keep the sum at 1 so flat regions stay flat
		for i := range w {
			w[i] /= 1 - 2*tail
		}
	}
	h, wd, c := img.H, img.W, img.C
	rowLen := wd * c
	tmpp := getScratch(h*rowLen + (wd+2*r)*c)
	tmp, pad := (*tmpp)[:h*rowLen], (*tmpp)[h*rowLen:]
	// Vertical pass: tmp row y = Σ_k w[k]·img row reflect(y+k-r).
	for y := 0; y < h; y++ {
		dst := tmp[y*rowLen : (y+1)*rowLen]
		src := func(k int) []float32 {
			yy := reflect(y+k-r, h)
			return img.Pix[yy*rowLen : (yy+1)*rowLen]
		}
		a := src(r)
		wc := w[r]
		for i := range dst {
			dst[i] = wc * a[i]
		}
		for k := 1; k <= r; k++ {
			axpy2(dst, src(r-k), src(r+k), w[r+k])
		}
	}
	// Horizontal pass on a reflect-padded copy of each row.
	for y := 0; y < h; y++ {
		row := tmp[y*rowLen : (y+1)*rowLen]
		for x := -r; x < wd+r; x++ {
			xx := reflect(x, wd)
			copy(pad[(x+r)*c:(x+r+1)*c], row[xx*c:(xx+1)*c])
		}
		dst := img.Pix[y*rowLen : (y+1)*rowLen]
		a := pad[r*c : r*c+rowLen]
		wc := w[r]
		for i := range dst {
			dst[i] = wc * a[i]
		}
		for k := 1; k <= r; k++ {
			axpy2(dst, pad[(r-k)*c:(r-k)*c+rowLen], pad[(r+k)*c:(r+k)*c+rowLen], w[r+k])
		}
	}
	scratch.Put(tmpp)
}

// axpy2 adds a·(x+z) to y elementwise (the two symmetric taps of a kernel).
func axpy2(y, x, z []float32, a float32) {
	x, z = x[:len(y)], z[:len(y)]
	i := 0
	for ; i+4 <= len(y); i += 4 {
		yy, xx, zz := y[i:i+4:i+4], x[i:i+4:i+4], z[i:i+4:i+4]
		yy[0] += a * (xx[0] + zz[0])
		yy[1] += a * (xx[1] + zz[1])
		yy[2] += a * (xx[2] + zz[2])
		yy[3] += a * (xx[3] + zz[3])
	}
	for ; i < len(y); i++ {
		y[i] += a * (x[i] + z[i])
	}
}

// GaussianBlur blurs with a sigma drawn uniformly from Sigma
// (torchvision.transforms.GaussianBlur, default sigma (0.1, 2.0); SimCLR
// uses a kernel of 10% of the image side). Wrap it in RandomApply for the
// papers' blur probability.
type GaussianBlur struct {
	KernelSize int
	Sigma      Range
}

// NewGaussianBlur returns a GaussianBlur with torchvision's default sigma
// range (0.1, 2.0). kernelSize must be odd and positive.
func NewGaussianBlur(kernelSize int) *GaussianBlur {
	checkBlur("NewGaussianBlur", kernelSize, 1)
	return &GaussianBlur{KernelSize: kernelSize, Sigma: Range{0.1, 2}}
}

// KernelSizeFor returns SimCLR's blur kernel for an image side: 10% of the
// side, rounded down, made odd by adding one, at least 3.
func KernelSizeFor(side int) int {
	k := side / 10
	if k%2 == 0 {
		k++
	}
	return max(k, 3)
}

// Apply blurs a copy of img; img is not modified.
func (t *GaussianBlur) Apply(img *Image, rng *rand.Rand) *Image { return applyVia(t, img, rng) }

func (t *GaussianBlur) applyOwned(img *Image, owned bool, rng *rand.Rand) (*Image, bool) {
	img.check("GaussianBlur")
	sigma := t.Sigma.sample(rng)
	checkBlur("GaussianBlur", t.KernelSize, sigma)
	img = own(img, owned)
	blurInPlace(img, gaussianKernel1D(t.KernelSize, sigma))
	return img, true
}
