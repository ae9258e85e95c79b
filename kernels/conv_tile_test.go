package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestConvTileMatchesGo checks the assembly tiles of every row count
// against convTileGo over both A orientations, partial column masks,
// skipped rows, accumulation and a zero depth, with NaN guard bands around
// C (rows past mr must stay untouched).
func TestConvTileMatchesGo(t *testing.T) {
	if !useConvAVX512 {
		t.Skip("no AVX-512 tile on this CPU/build")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 420; trial++ {
		kc := []int{0, 1, 2, 7, 64, 131}[trial%6]
		ncols := 1 + rng.IntN(convNR)
		args := convTileArgs{kc: kc, ldb: ncols + rng.IntN(5), skip: rng.IntN(convMR), mask: colMask(ncols), accumulate: trial % 2}
		if trial%3 == 0 { // transposed A: rows contiguous
			args.rs, args.ps = 1, convMR+rng.IntN(7)
		} else {
			args.rs, args.ps = kc+rng.IntN(7), 1
		}
		args.ldc = ncols + rng.IntN(9)
		alen := (convMR-1)*args.rs + max(kc-1, 0)*args.ps + 1 // enough for 14 rows
		a := randSlice(rng, alen)
		b := randSlice(rng, max(kc, 1)*args.ldb+convNR)
		const guard = 16
		clen := (convMR-1)*args.ldc + convNR + 2*guard
		c1 := make([]float32, clen)
		for i := range c1 {
			c1[i] = float32(math.NaN())
		}
		for i := 0; i < convMR; i++ {
			for j := 0; j < ncols; j++ {
				c1[guard+i*args.ldc+j] = rng.Float32()
			}
		}
		c2 := append([]float32(nil), c1...)
		mr := 1 + trial%convMR
		args.skip = min(args.skip, mr-1)
		convTileGo(mr, a, b, c1[guard:], &args)
		convTileAVX512[mr](&a[0], &b[0], &c2[guard], &args)
		for i := range c1 {
			x, y := c1[i], c2[i]
			if math.IsNaN(float64(x)) != math.IsNaN(float64(y)) || math.Abs(float64(x-y)) > 1e-4 {
				t.Fatalf("trial %d %+v: c[%d] = %v, want %v", trial, args, i-guard, y, x)
			}
		}
	}
}

func TestVecAcc(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for n := 0; n < 300; n++ {
		dst := randSlice(rng, n+1)
		src := randSlice(rng, n+1)
		want := append([]float32(nil), dst...)
		for i := 0; i < n; i++ {
			want[i] += src[i]
		}
		vecAcc(dst[:n], src)
		for i := range want {
			if dst[i] != want[i] {
				t.Fatalf("n=%d: dst[%d] = %v, want %v", n, i, dst[i], want[i])
			}
		}
	}
}
