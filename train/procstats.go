package train

import (
	"os"
	"runtime"
	"strconv"
	"strings"
)

// ProcessStats is what a long run's log says about the process itself, so
// that a soak run can show memory, goroutines and file descriptors staying
// flat. Fields the platform cannot report are zero.
type ProcessStats struct {
	RSSBytes   int64 `json:"rss_bytes"`
	HeapBytes  int64 `json:"heap_bytes"`
	Goroutines int   `json:"goroutines"`
	OpenFDs    int   `json:"open_fds"`
}

// readProcessStats samples the running process (RSS and open descriptors
// from /proc on Linux; the Go heap and goroutines everywhere).
func readProcessStats() *ProcessStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	ps := &ProcessStats{HeapBytes: int64(ms.HeapAlloc), Goroutines: runtime.NumGoroutine()}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			if pages, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				ps.RSSBytes = pages * int64(os.Getpagesize())
			}
		}
	}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		ps.OpenFDs = len(ents)
	}
	return ps
}
