package data

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads a byte count such as "512MiB", "4GiB", "1.5GB", "800M"
// or "1048576": binary suffixes (KiB, MiB, GiB, TiB; K, M, G, T alone are
// binary too) and decimal ones (KB, MB, GB, TB), case-insensitive, with an
// optional trailing "B". "" and "0" mean 0 (the default).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, nil
	}
	l := strings.ToLower(t)
	mult := float64(1)
	for _, u := range []struct {
		suffix string
		m      float64
	}{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
		{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
		{"b", 1},
	} {
		if strings.HasSuffix(l, u.suffix) {
			l, mult = strings.TrimSpace(strings.TrimSuffix(l, u.suffix)), u.m
			break
		}
	}
	v, err := strconv.ParseFloat(l, 64)
	if err != nil || v < 0 || v*mult > 1<<62 || v != v {
		return 0, fmt.Errorf("data: size %q: want a byte count such as 512MiB, 4GiB or 1000000", s)
	}
	return int64(v * mult), nil
}
