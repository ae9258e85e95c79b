package autograd

import "runtime"

type runtimeStats struct{ bytes uint64 }

func (s *runtimeStats) read() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.bytes = m.TotalAlloc
}
