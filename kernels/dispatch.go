package kernels

// sgemm is the implementation Sgemm dispatches to (set once at init from
// the CPU features; tests switch it with setImpl).
var sgemm = sgemmRef

var implName = "generic"

// Impl names the kernel implementation in use ("avx512", "avx2" or "generic").
func Impl() string { return implName }
