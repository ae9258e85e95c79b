package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/contrastive-ssl/contrastive/internal/parallel"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// convLoops is the direct seven-loop convolution, the oracle for the
// im2col + GEMM path: y, dx and dw from x, w (OIHW), b and dy.
func convLoops(s Conv2dShape, x, w, b, dy []float32) (y, dx, dw, db []float32) {
	oh, ow := s.OutH(), s.OutW()
	y = make([]float32, s.N*oh*ow*s.OC)
	dx = make([]float32, len(x))
	dw = make([]float32, len(w))
	db = make([]float32, s.OC)
	for n := 0; n < s.N; n++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				for o := 0; o < s.OC; o++ {
					yi := ((n*oh+i)*ow+j)*s.OC + o
					var acc float64
					if b != nil {
						acc = float64(b[o])
					}
					g := dy[yi]
					db[o] += g
					for c := 0; c < s.C; c++ {
						for kh := 0; kh < s.KH; kh++ {
							iy := i*s.Stride - s.Pad + kh
							if iy < 0 || iy >= s.H {
								continue
							}
							for kw := 0; kw < s.KW; kw++ {
								ix := j*s.Stride - s.Pad + kw
								if ix < 0 || ix >= s.W {
									continue
								}
								xi := ((n*s.H+iy)*s.W+ix)*s.C + c
								wi := ((o*s.C+c)*s.KH+kh)*s.KW + kw
								acc += float64(x[xi]) * float64(w[wi])
								dx[xi] += g * w[wi]
								dw[wi] += g * x[xi]
							}
						}
					}
					y[yi] = float32(acc)
				}
			}
		}
	}
	return y, dx, dw, db
}

func maxRelDiff(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	m := 0.0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		m = math.Max(m, d)
	}
	return m / math.Max(scale, 1e-30)
}

var convCases = []Conv2dShape{
	{N: 2, H: 7, W: 6, C: 3, OC: 5, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{N: 3, H: 8, W: 9, C: 4, OC: 6, KH: 3, KW: 3, Stride: 2, Pad: 1},
	{N: 2, H: 6, W: 6, C: 5, OC: 7, KH: 1, KW: 1, Stride: 1, Pad: 0},
	{N: 2, H: 7, W: 7, C: 5, OC: 4, KH: 1, KW: 1, Stride: 2, Pad: 0},
	{N: 2, H: 11, W: 10, C: 1, OC: 3, KH: 7, KW: 7, Stride: 2, Pad: 3},
	{N: 1, H: 5, W: 5, C: 2, OC: 2, KH: 5, KW: 5, Stride: 1, Pad: 0},
	{N: 2, H: 4, W: 5, C: 3, OC: 2, KH: 2, KW: 3, Stride: 3, Pad: 2},
	{N: 2, H: 5, W: 6, C: 19, OC: 35, KH: 3, KW: 3, Stride: 1, Pad: 1}, // gathered packing, ragged tiles
	{N: 3, H: 4, W: 4, C: 33, OC: 17, KH: 1, KW: 1, Stride: 1, Pad: 0},
	{N: 2, H: 10, W: 9, C: 6, OC: 9, KH: 3, KW: 3, Stride: 1, Pad: 1}, // a 90-pixel map: direct on "auto"
	// tiny maps (conv_tiny.go) on "sgemm" and "auto": 2×2, 4×4 stride 2,
	// ragged 3×4, 1×1, and padding so wide that some outputs see no pixel
	{N: 3, H: 2, W: 2, C: 17, OC: 33, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{N: 2, H: 4, W: 4, C: 9, OC: 20, KH: 3, KW: 3, Stride: 2, Pad: 1},
	{N: 2, H: 3, W: 4, C: 5, OC: 6, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{N: 4, H: 1, W: 1, C: 7, OC: 3, KH: 3, KW: 3, Stride: 1, Pad: 1},
	{N: 2, H: 2, W: 2, C: 3, OC: 4, KH: 3, KW: 3, Stride: 1, Pad: 3},
}

// convPaths lists the implementations a test should cover: the direct
// tiles (assembly, or the Go tile when forced) on every shape, im2col +
// Sgemm on every shape, and the default choice per shape (direct.go's
// rule: see Conv2dShape.direct).
func convPaths() []string { return []string{"direct", "sgemm", "im2col", "auto"} }

// setConvPath selects a path and returns the function restoring the old
// one; "direct" without AVX-512 runs the Go tile, "sgemm" is im2col +
// Sgemm with the tiny-map path (conv_tiny.go), "im2col" without it.
func setConvPath(path string) (restore func()) {
	old, oldAll, oldTiny := convDirect, convDirectAll, convTiny
	convDirect = path == "direct" || path == "auto" && useConvAVX512
	convDirectAll = path == "direct"
	convTiny = path != "im2col"
	return func() { convDirect, convDirectAll, convTiny = old, oldAll, oldTiny }
}

func TestConvMatchesLoops(t *testing.T) {
	defer func(chunk, kc int) { ConvChunkBytes, convKC = chunk, kc }(ConvChunkBytes, convKC)
	for _, path := range convPaths() {
		defer setConvPath(path)()
		for _, chunk := range []int{1 << 20, 1} { // one chunk; one image per chunk
			ConvChunkBytes = chunk
			convKC = 256
			if chunk == 1 {
				convKC = 5 // several depth slices per tile
			}
			for _, s := range convCases {
				t.Run(fmt.Sprintf("%s/%dx%d_s%d_p%d_C%d_chunk%d", path, s.KH, s.KW, s.Stride, s.Pad, s.C, chunk), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(1, uint64(s.K())))
					x := randSlice(rng, s.N*s.H*s.W*s.C)
					w := randSlice(rng, s.OC*s.K())
					b := randSlice(rng, s.OC)
					dy := randSlice(rng, s.Rows()*s.OC)
					wantY, wantDx, wantDw, wantDb := convLoops(s, x, w, b, dy)

					wk := make([]float32, ConvPackedLen(s))
					PackConvWeights(s, w, wk)
					scratch := make([]float32, ConvScratchLen(s))
					y := make([]float32, len(wantY))
					for i := range y {
						y[i] = float32(math.NaN()) // overwritten, never read
					}
					Conv2dForward(s, x, wk, b, y, scratch)
					if d := maxRelDiff(y, wantY); d > 1e-5 {
						t.Errorf("forward: max rel diff %.3g", d)
					}
					// gradients accumulate: start from 1 and subtract it back
					dx := make([]float32, len(x))
					dwk := make([]float32, ConvWeightGradLen(s))
					dw := make([]float32, len(w))
					db := make([]float32, s.OC)
					for i := range dx {
						dx[i] = 1
					}
					Conv2dBackward(s, x, wk, dy, dx, dwk, scratch)
					for i := range dx {
						dx[i]--
					}
					UnpackConvWeightsGrad(s, dwk, dw)
					ConvBiasGrad(dy, s.Rows(), s.OC, db)
					if d := maxRelDiff(dx, wantDx); d > 1e-5 {
						t.Errorf("dx: max rel diff %.3g", d)
					}
					if d := maxRelDiff(dw, wantDw); d > 1e-5 {
						t.Errorf("dw: max rel diff %.3g", d)
					}
					if d := maxRelDiff(db, wantDb); d > 1e-5 {
						t.Errorf("db: max rel diff %.3g", d)
					}
				})
			}
		}
	}
}

// TestConvWorkersIndependent checks that the split over workers does not
// change any result bit.
func TestConvWorkersIndependent(t *testing.T) {
	for _, path := range convPaths() {
		t.Run(path, func(t *testing.T) {
			defer setConvPath(path)()
			testConvWorkersIndependent(t)
		})
	}
}

func testConvWorkersIndependent(t *testing.T) {
	s := Conv2dShape{N: 3, H: 9, W: 15, C: 4, OC: 40, KH: 3, KW: 3, Stride: 1, Pad: 1}
	rng := rand.New(rand.NewPCG(2, 2))
	x := randSlice(rng, s.N*s.H*s.W*s.C)
	wk := randSlice(rng, ConvPackedLen(s))
	b := randSlice(rng, s.OC)
	dy := randSlice(rng, s.Rows()*s.OC)
	run := func() (y, dx, dwk, db []float32) {
		y = make([]float32, len(dy))
		dx = make([]float32, len(x))
		dwk = make([]float32, ConvWeightGradLen(s))
		db = make([]float32, s.OC)
		scratch := make([]float32, ConvScratchLen(s))
		Conv2dForward(s, x, wk, b, y, scratch)
		Conv2dBackward(s, x, wk, dy, dx, dwk, scratch)
		ConvBiasGrad(dy, s.Rows(), s.OC, db)
		return
	}
	old := parallel.SetWorkers(1)
	y1, dx1, dw1, db1 := run()
	parallel.SetWorkers(3)
	y3, dx3, dw3, db3 := run()
	parallel.SetWorkers(old)
	for name, p := range map[string][2][]float32{"y": {y1, y3}, "dx": {dx1, dx3}, "dwk": {dw1, dw3}, "db": {db1, db3}} {
		for i := range p[0] {
			if p[0][i] != p[1][i] {
				t.Fatalf("%s[%d]: %v with 1 worker, %v with 3", name, i, p[0][i], p[1][i])
			}
		}
	}
}

func TestConvShapeValidate(t *testing.T) {
	bad := []Conv2dShape{
		{N: 1, H: 2, W: 2, C: 1, OC: 1, KH: 3, KW: 3, Stride: 1, Pad: 0},
		{N: 1, H: 4, W: 4, C: 1, OC: 1, KH: 3, KW: 3, Stride: 0, Pad: 0},
		{N: 1, H: 4, W: 4, C: 0, OC: 1, KH: 3, KW: 3, Stride: 1, Pad: 0},
		{N: 1, H: 4, W: 4, C: 1, OC: 1, KH: 3, KW: 3, Stride: 1, Pad: -1},
	}
	for _, s := range bad {
		if s.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", s)
		}
	}
	good := Conv2dShape{N: 64, H: 32, W: 32, C: 64, OC: 128, KH: 3, KW: 3, Stride: 2, Pad: 1}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if good.OutH() != 16 || good.OutW() != 16 || good.K() != 576 {
		t.Errorf("OutH, OutW, K = %d, %d, %d; want 16, 16, 576", good.OutH(), good.OutW(), good.K())
	}
}

// BenchmarkConv times forward + backward of the ResNet-18 CIFAR shapes at
// batch 16 (go run ./cmd/contrastive bench conv runs batch 64).
func BenchmarkConv(b *testing.B) {
	for _, sh := range ResNet18CIFARConvShapes() {
		s := Conv2dShape{N: 16, H: sh.H, W: sh.W, C: sh.C, OC: sh.OC, KH: sh.K, KW: sh.K, Stride: sh.Stride, Pad: sh.Pad}
		b.Run(sh.Name, func(b *testing.B) {
			x := make([]float32, s.N*s.H*s.W*s.C)
			wk := make([]float32, ConvPackedLen(s))
			dy := make([]float32, s.Rows()*s.OC)
			y := make([]float32, len(dy))
			dx := make([]float32, len(x))
			dwk := make([]float32, ConvWeightGradLen(s))
			scratch := make([]float32, ConvScratchLen(s))
			b.ResetTimer()
			for b.Loop() {
				Conv2dForward(s, x, wk, nil, y, scratch)
				Conv2dBackward(s, x, wk, dy, dx, dwk, scratch)
			}
			b.ReportMetric(3*s.FLOPs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
