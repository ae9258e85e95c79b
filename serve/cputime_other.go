//go:build !unix

package serve

func processCPU() (float64, bool) { return 0, false }
