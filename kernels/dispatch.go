package kernels

import "fmt"

// sgemmKernel is the micro-kernel Sgemm runs, chosen once at start-up from
// the CPU features (tests switch it with setImpl).
var sgemmKernel = bestKernel()

// sgemm is the implementation Sgemm dispatches to, on up to maxThreads
// workers.
func sgemm(maxThreads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmPacked(sgemmKernel, maxThreads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func bestKernel() *gemmKernel {
	if ks := asmKernels(); len(ks) > 0 {
		return ks[0]
	}
	return genericKernel
}

// Impl names the kernel implementation in use ("avx512", "avx2" or "generic").
func Impl() string { return sgemmKernel.name }

// Impls lists the implementations this machine can run, fastest first;
// "generic" is always last.
func Impls() []string {
	var names []string
	for _, k := range asmKernels() {
		names = append(names, k.name)
	}
	return append(names, genericKernel.name)
}

// setImpl switches Sgemm to the named implementation and returns a function
// that restores the previous one. It is for tests and benchmarks: it is not
// safe to call while Sgemm runs on another goroutine.
func setImpl(name string) (restore func(), err error) {
	old := sgemmKernel
	for _, k := range append(asmKernels(), genericKernel) {
		if k.name == name {
			sgemmKernel = k
			return func() { sgemmKernel = old }, nil
		}
	}
	return nil, fmt.Errorf("kernels: implementation %q not available (have %v)", name, Impls())
}
