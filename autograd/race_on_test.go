//go:build race

package autograd_test

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation bounds do not hold under it.
const raceEnabled = true
