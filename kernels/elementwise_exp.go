package kernels

import "math"

var negInf = float32(math.Inf(-1))

// Single-precision exp after Cephes expf: x = n·ln2 + r with |r| ≤ ln2/2,
// e^r from a degree-7 polynomial, then scaled by 2^n through the exponent
// bits. Relative error is within a few ulp of float32 over the whole
// range (TestExpAccuracy measures it against math.Exp). Results below the
// smallest normal float32 (x < -87.3365) flush to 0.
const (
	expHi = 88.72283  // exp(expHi) is the largest finite float32
	expLo = -87.33654 // exp(expLo) is the smallest normal float32
	log2e = 1.44269504088896341
	ln2Hi = 0.693359375
	ln2Lo = -2.12194440e-4
	expP0 = 1.9875691500e-4
	expP1 = 1.3981999507e-3
	expP2 = 8.3334519073e-3
	expP3 = 4.1665795894e-2
	expP4 = 1.6666665459e-1
	expP5 = 5.0000001201e-1
)

// Exp32 returns e^x in single precision (see the accuracy note above).
func Exp32(x float32) float32 {
	if !(x > expLo) { // also NaN
		if x != x {
			return x
		}
		return 0
	}
	if x > expHi {
		return float32(math.Inf(1))
	}
	fx := x*log2e + 0.5
	n := int32(fx)
	if float32(n) > fx {
		n-- // floor for negative fx
	}
	fn := float32(n)
	r := x - fn*ln2Hi
	r -= fn * ln2Lo
	p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
	y := p*r*r + r + 1
	if n > 127 {
		y *= 2
		n--
	}
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// Exp computes dst = e^a element-wise (Exp32).
//
//	for i := range dst { dst[i] = exp(a[i]) }
func Exp(dst, a []float32) {
	checkLen("Exp", len(dst), len(a))
	a = a[:len(dst)]
	for i, v := range a {
		dst[i] = Exp32(v)
	}
}

// ExpShift computes dst = e^(a - shift) and returns the sum of dst: the
// inner step of a numerically stable softmax (shift = max a).
//
//	for i := range dst { dst[i] = exp(a[i] - shift); s += dst[i] }
func ExpShift(dst, a []float32, shift float32) float32 {
	checkLen("ExpShift", len(dst), len(a))
	a = a[:len(dst)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(dst); i += 2 {
		e0 := Exp32(a[i] - shift)
		e1 := Exp32(a[i+1] - shift)
		dst[i], dst[i+1] = e0, e1
		s0 += e0
		s1 += e1
	}
	for ; i < len(dst); i++ {
		e := Exp32(a[i] - shift)
		dst[i] = e
		s0 += e
	}
	return s0 + s1
}

// SumExpShift returns Σ e^(a[i] - shift) without storing the terms: the
// log-sum-exp of a row is shift + log(SumExpShift(row, max row)).
//
//	for i := range a { s += exp(a[i] - shift) }
func SumExpShift(a []float32, shift float32) float32 {
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s0 += Exp32(a[i] - shift)
		s1 += Exp32(a[i+1] - shift)
	}
	for ; i < len(a); i++ {
		s0 += Exp32(a[i] - shift)
	}
	return s0 + s1
}
