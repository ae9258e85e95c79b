//go:build unix

package index

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user + system), so that a
// benchmark on a shared machine can report work per CPU-second next to
// wall-clock rates.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
