//go:build !linux

package benchstep

// maxRSSMB returns 0: the peak resident set size is read on Linux only.
func maxRSSMB() float64 { return 0 }
