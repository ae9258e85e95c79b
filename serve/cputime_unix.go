//go:build unix

package serve

import "syscall"

// processCPU is the CPU time (user + system, seconds) the process has used,
// exported as Prometheus's process_cpu_seconds_total; ok is false where it
// cannot be read.
func processCPU() (float64, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9, true
}
