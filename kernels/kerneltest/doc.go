// Package kerneltest holds conformance suites for the compute kernels of
// package kernels. A suite takes the implementation under test as a small
// interface, so that the same cases run against every variant (AVX-512,
// AVX2, pure Go) and against any future replacement:
//
//	func TestSgemm(t *testing.T) {
//		kerneltest.TestSgemm(t, kerneltest.SgemmFunc(kernels.Sgemm))
//	}
//
// Results are compared with a float64 reference within a rounding bound
// that grows with k; outputs sit between NaN guard bands (and the padding
// of every leading dimension is NaN), so that reads or writes outside the
// matrices show up as NaNs or clobbered guards.
package kerneltest
