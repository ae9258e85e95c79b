package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// ConvBenchShape is one convolution to time, described as PyTorch would:
// C input channels of H×W, OC output channels, a K×K kernel.
type ConvBenchShape struct {
	Name                        string
	C, H, W, OC, K, Stride, Pad int
}

// ResNet18CIFARConvShapes returns each distinct convolution of ResNet-18
// with the CIFAR stem (3×3 stride-1 stem conv, no max-pool) on 32×32
// inputs: the stem, and per stage the first 3×3 conv (stride 2 from
// layer2 on), the repeated 3×3 conv and the 1×1 stride-2 downsample.
func ResNet18CIFARConvShapes() []ConvBenchShape {
	return []ConvBenchShape{
		{"conv1", 3, 32, 32, 64, 3, 1, 1},
		{"layer1.conv", 64, 32, 32, 64, 3, 1, 1},
		{"layer2.0.conv1", 64, 32, 32, 128, 3, 2, 1},
		{"layer2.conv", 128, 16, 16, 128, 3, 1, 1},
		{"layer2.0.downsample", 64, 32, 32, 128, 1, 2, 0},
		{"layer3.0.conv1", 128, 16, 16, 256, 3, 2, 1},
		{"layer3.conv", 256, 8, 8, 256, 3, 1, 1},
		{"layer3.0.downsample", 128, 16, 16, 256, 1, 2, 0},
		{"layer4.0.conv1", 256, 8, 8, 512, 3, 2, 1},
		{"layer4.conv", 512, 4, 4, 512, 3, 1, 1},
		{"layer4.0.downsample", 256, 8, 8, 512, 1, 2, 0},
	}
}

// ConvBenchResult is the timing of one shape; the JSON field names are
// shared with bench/torch_conv.py.
type ConvBenchResult struct {
	Name        string  `json:"name"`
	In          []int   `json:"in"` // [N, C, H, W]
	OutChannels int     `json:"out_channels"`
	Kernel      int     `json:"kernel"`
	Stride      int     `json:"stride"`
	Pad         int     `json:"pad"`
	GFLOPS      float64 `json:"gflops"` // achieved GFLOP/s of forward + backward (3 × forward FLOPs)
	Ms          float64 `json:"ms"`     // median milliseconds of one forward + backward
	MsMin       float64 `json:"ms_min"` // fastest repetition
	// CPUMs is the median process CPU time of one repetition (all
	// threads): on a busy machine it shows the work done, where ms also
	// counts the time spent waiting for a core. 0 where not measured.
	CPUMs float64 `json:"cpu_ms"`
	Reps  int     `json:"reps"`
}

// BenchConvOptions controls BenchConv. Zero values take the defaults shown.
type BenchConvOptions struct {
	Batch   int           // 64
	MinTime time.Duration // per shape, after one warm-up pass (1s)
	MinReps int           // per shape (3)
}

// BenchConv times, for each shape, one forward pass and the full backward
// pass (input and weight gradients) through the kernels the autograd
// Conv2d op calls, weight packing included, and returns one result per
// shape. Buffers are allocated once per shape, outside the timed region.
func BenchConv(shapes []ConvBenchShape, opt BenchConvOptions) ([]ConvBenchResult, error) {
	if opt.Batch == 0 {
		opt.Batch = 64
	}
	if opt.MinTime == 0 {
		opt.MinTime = time.Second
	}
	if opt.MinReps == 0 {
		opt.MinReps = 3
	}
	if opt.Batch < 1 || opt.MinReps < 1 || opt.MinTime < 0 {
		return nil, fmt.Errorf("bench conv: batch %d and repetitions %d must be positive", opt.Batch, opt.MinReps)
	}
	out := make([]ConvBenchResult, 0, len(shapes))
	for _, sh := range shapes {
		s := Conv2dShape{N: opt.Batch, H: sh.H, W: sh.W, C: sh.C, OC: sh.OC, KH: sh.K, KW: sh.K, Stride: sh.Stride, Pad: sh.Pad}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("bench conv: shape %s: %w", sh.Name, err)
		}
		times, cpu := benchConvShape(s, opt)
		slices.Sort(times)
		slices.Sort(cpu)
		med := times[len(times)/2]
		out = append(out, ConvBenchResult{
			Name: sh.Name, In: []int{opt.Batch, sh.C, sh.H, sh.W}, OutChannels: sh.OC,
			Kernel: sh.K, Stride: sh.Stride, Pad: sh.Pad,
			GFLOPS: 3 * s.FLOPs() / med.Seconds() / 1e9,
			Ms:     float64(med.Microseconds()) / 1e3, MsMin: float64(times[0].Microseconds()) / 1e3,
			CPUMs: float64(cpu[len(cpu)/2].Microseconds()) / 1e3,
			Reps:  len(times),
		})
	}
	return out, nil
}

func benchConvShape(s Conv2dShape, opt BenchConvOptions) (times, cpu []time.Duration) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = rng.Float32() - 0.5
		}
		return v
	}
	x := fill(s.N * s.H * s.W * s.C)
	w := fill(s.OC * s.K())
	dy := fill(s.Rows() * s.OC)
	wk := make([]float32, ConvPackedLen(s))
	dwk := make([]float32, ConvWeightGradLen(s))
	dw := make([]float32, len(w))
	y := make([]float32, len(dy))
	dx := make([]float32, len(x))
	scratch := make([]float32, ConvScratchLen(s))
	step := func() {
		PackConvWeights(s, w, wk)
		Conv2dForward(s, x, wk, nil, y, scratch)
		clear(dx)
		clear(dwk)
		Conv2dBackward(s, x, wk, dy, dx, dwk, scratch)
		UnpackConvWeightsGrad(s, dwk, dw)
	}
	step() // warm-up
	start := time.Now()
	for len(times) < opt.MinReps || time.Since(start) < opt.MinTime {
		c0, t0 := processCPU(), time.Now()
		step()
		times = append(times, time.Since(t0))
		cpu = append(cpu, processCPU()-c0)
	}
	return times, cpu
}
