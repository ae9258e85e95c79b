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

// expMagic is 1.5·2²³: adding it to a float32 of magnitude below 2²²
// rounds to an integer, which then sits in the low mantissa bits.
const expMagic = 12582912.0

// expRow computes dst = e^(a - shift) and returns the float64 sum of dst.
// Its loop body is Exp32 written out (the compiler does not inline Exp32)
// with a branch-free rounding, for arguments where 2^n is a normal
// float32; the rest go through Exp32.
func expRow(dst, a []float32, shift float32) float64 {
	a = a[:len(dst)]
	var s float64
	for i, v := range a {
		x := v - shift
		var y float32
		if x > expLo && x < 88 {
			t := x*log2e + expMagic
			n := int32(math.Float32bits(t)) - int32(math.Float32bits(expMagic))
			fn := t - expMagic
			r := x - fn*ln2Hi
			r -= fn * ln2Lo
			p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
			y = (p*r*r + r + 1) * math.Float32frombits(uint32(n+127)<<23)
		} else {
			y = Exp32(x)
		}
		dst[i] = y
		s += float64(y)
	}
	return s
}

// Exp computes dst = e^a element-wise (Exp32).
//
//	for i := range dst { dst[i] = exp(a[i]) }
func Exp(dst, a []float32) {
	checkLen("Exp", len(dst), len(a))
	expRow(dst, a, 0)
}

// ExpShift computes dst = e^(a - shift) and returns the sum of dst (added
// in float64): the inner step of a numerically stable softmax (shift = max a).
//
//	for i := range dst { dst[i] = exp(a[i] - shift); s += dst[i] }
func ExpShift(dst, a []float32, shift float32) float32 {
	checkLen("ExpShift", len(dst), len(a))
	return float32(expRow(dst, a, shift))
}

// SumExpShift returns Σ e^(a[i] - shift) without keeping the terms: the
// log-sum-exp of a row is shift + log(SumExpShift(row, max row)).
//
//	for i := range a { s += exp(a[i] - shift) }
func SumExpShift(a []float32, shift float32) float32 {
	var buf [256]float32
	var s float64
	for lo := 0; lo < len(a); lo += len(buf) {
		hi := min(lo+len(buf), len(a))
		s += expRow(buf[:hi-lo], a[lo:hi], shift)
	}
	return float32(s)
}
