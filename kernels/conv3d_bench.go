package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Conv3dBenchShape is one 3-D convolution to time, described as PyTorch
// would: C input channels of T×H×W, OC output channels, a KT×K×K kernel.
type Conv3dBenchShape struct {
	Name           string
	C, T, H, W, OC int
	KT, K, ST, S   int
	PT, P          int
}

// R3DConvShapes returns each distinct convolution of torchvision's
// r3d_18 (full width) on 8×56×56 clips (8×28×28 after the stem), plus the
// two factored convolutions of r2plus1d_18's first stage: the stem, per
// stage the first 3×3×3 conv (stride 2 from layer2 on), the repeated one
// and a 1×1×1 stride-2 downsample.
func R3DConvShapes() []Conv3dBenchShape {
	return []Conv3dBenchShape{
		{"stem", 3, 8, 56, 56, 64, 3, 7, 1, 2, 1, 3},
		{"layer1.conv", 64, 8, 28, 28, 64, 3, 3, 1, 1, 1, 1},
		{"layer2.0.conv1", 64, 8, 28, 28, 128, 3, 3, 2, 2, 1, 1},
		{"layer2.conv", 128, 4, 14, 14, 128, 3, 3, 1, 1, 1, 1},
		{"layer2.0.downsample", 64, 8, 28, 28, 128, 1, 1, 2, 2, 0, 0},
		{"layer3.0.conv1", 128, 4, 14, 14, 256, 3, 3, 2, 2, 1, 1},
		{"layer3.conv", 256, 2, 7, 7, 256, 3, 3, 1, 1, 1, 1},
		{"layer4.0.conv1", 256, 2, 7, 7, 512, 3, 3, 2, 2, 1, 1},
		{"layer4.conv", 512, 1, 4, 4, 512, 3, 3, 1, 1, 1, 1},
		{"r2plus1d.layer1.spatial", 64, 8, 28, 28, 144, 1, 3, 1, 1, 0, 1},
		{"r2plus1d.layer1.temporal", 144, 8, 28, 28, 64, 3, 1, 1, 1, 1, 0},
	}
}

// Conv3dBenchResult is the timing of one shape; the fields match
// bench/torch_conv3d.py.
type Conv3dBenchResult struct {
	Name   string  `json:"name"`
	In     []int   `json:"in"` // [N, C, T, H, W]
	OC     int     `json:"out_channels"`
	Kernel []int   `json:"kernel"` // [KT, K, K]
	Stride []int   `json:"stride"`
	Pad    []int   `json:"pad"`
	GFLOPS float64 `json:"gflops"` // forward + backward (3 × forward FLOPs) per median second
	Ms     float64 `json:"ms"`     // median milliseconds of one forward + backward
	MsMin  float64 `json:"ms_min"`
	CPUMs  float64 `json:"cpu_ms"`
	Reps   int     `json:"reps"`
}

// BenchConv3d times one forward pass and the full backward pass (input
// and weight gradients, weight packing included) of each shape through
// the kernels the autograd Conv3d op calls.
func BenchConv3d(shapes []Conv3dBenchShape, opt BenchConvOptions) ([]Conv3dBenchResult, error) {
	if opt.Batch == 0 {
		opt.Batch = 2
	}
	if opt.MinTime == 0 {
		opt.MinTime = time.Second
	}
	if opt.MinReps == 0 {
		opt.MinReps = 3
	}
	out := make([]Conv3dBenchResult, 0, len(shapes))
	for _, sh := range shapes {
		s := Conv3dShape{N: opt.Batch, T: sh.T, H: sh.H, W: sh.W, C: sh.C, OC: sh.OC, KT: sh.KT, KH: sh.K, KW: sh.K,
			StrideT: sh.ST, Stride: sh.S, PadT: sh.PT, Pad: sh.P}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("bench conv3d: shape %s: %w", sh.Name, err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		fill := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = rng.Float32() - 0.5
			}
			return v
		}
		x := fill(s.N * s.T * s.H * s.W * s.C)
		w := fill(s.OC * s.C * s.KT * s.KH * s.KW)
		dy := fill(s.Rows() * s.OC)
		wk := make([]float32, Conv3dPackedLen(s))
		dwk := make([]float32, Conv3dWeightGradLen(s))
		dw := make([]float32, len(w))
		y := make([]float32, len(dy))
		dx := make([]float32, len(x))
		scratch := make([]float32, max(Conv3dScratchLen(s), Conv3dBackwardScratchLen(s)))
		step := func() {
			PackConv3dWeights(s, w, wk)
			Conv3dForward(s, x, wk, nil, y, scratch)
			clear(dx)
			clear(dwk)
			Conv3dBackward(s, x, wk, dy, dx, dwk, scratch)
			UnpackConv3dWeightsGrad(s, dwk, dw)
		}
		step()
		var times, cpu []time.Duration
		start := time.Now()
		for len(times) < opt.MinReps || time.Since(start) < opt.MinTime {
			c0, t0 := processCPU(), time.Now()
			step()
			times = append(times, time.Since(t0))
			cpu = append(cpu, processCPU()-c0)
		}
		slices.Sort(times)
		slices.Sort(cpu)
		med := times[len(times)/2]
		out = append(out, Conv3dBenchResult{
			Name: sh.Name, In: []int{opt.Batch, sh.C, sh.T, sh.H, sh.W}, OC: sh.OC,
			Kernel: []int{sh.KT, sh.K, sh.K}, Stride: []int{sh.ST, sh.S, sh.S}, Pad: []int{sh.PT, sh.P, sh.P},
			GFLOPS: 3 * s.FLOPs() / med.Seconds() / 1e9,
			Ms:     float64(med.Microseconds()) / 1e3, MsMin: float64(times[0].Microseconds()) / 1e3,
			CPUMs: float64(cpu[len(cpu)/2].Microseconds()) / 1e3, Reps: len(times),
		})
	}
	return out, nil
}
