package kernels

import (
	"fmt"
	"runtime"
		"testing"
	"time"

	"contrastive/internal/parallel"
	"golang.org/x/sys/unix"
)

func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// cpuTime runs fn reps times single-threaded and returns the min CPU time per call.
func cpuTime(reps int, fn func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old := parallel.SetWorkers(1)
	defer parallel.SetWorkers(old)
	fn()
	best := time.Hour
	for i := 0; i < reps; i++ {
		t0 := threadCPU()
		fn()
		if d := threadCPU() - t0; d < best {
			best = d
		}
	}
	return best
}

func TestZZPasses(t *testing.T) {
	for _, sh := range ResNet18CIFARConvShapes() {
		s := Conv2dShape{N: 16, H: sh.H, W: sh.W, C: sh.C, OC: sh.OC, KH: sh.K, KW: sh.K, Stride: sh.Stride, Pad: sh.Pad}
		x := make([]float32, s.N*s.H*s.W*s.C)
		w := make([]float32, s.OC*s.K())
		wk := make([]float32, ConvPackedLen(s))
		dy := make([]float32, s.Rows()*s.OC)
		y := make([]float32, len(dy))
		dx := make([]float32, len(x))
		dwk := make([]float32, ConvWeightGradLen(s))
		scratch := make([]float32, ConvScratchLen(s))
		f := s.FLOPs()
		line := fmt.Sprintf("%-20s", sh.Name)
		var tot time.Duration
		for _, p := range []struct {
			name string
			fl   float64
			fn   func()
		}{
			{"pack", 0, func() { PackConvWeights(s, w, wk) }},
			{"unpack", 0, func() { UnpackConvWeightsGrad(s, dwk, w) }},
			{"fwd", f, func() { Conv2dForward(s, x, wk, nil, y, scratch) }},
			{"data", f, func() { Conv2dBackward(s, x, wk, dy, dx, nil, scratch) }},
			{"wgt", f, func() { Conv2dBackward(s, x, wk, dy, nil, dwk, scratch) }},
		} {
			d := cpuTime(5, p.fn)
			tot += d
			if p.fl > 0 {
				line += fmt.Sprintf(" %s %6.2fms %5.0fGF/s |", p.name, d.Seconds()*1e3, p.fl/d.Seconds()/1e9)
			} else {
				line += fmt.Sprintf(" %s %5.2fms |", p.name, d.Seconds()*1e3)
			}
		}
		line += fmt.Sprintf(" total %6.2fms %5.0fGF/s", tot.Seconds()*1e3, 3*f/tot.Seconds()/1e9)
		t.Log(line)
	}
}

func BenchmarkZZPack4(b *testing.B) {
	s := Conv2dShape{N: 16, H: 4, W: 4, C: 512, OC: 512, KH: 3, KW: 3, Stride: 1, Pad: 1}
	w := make([]float32, s.OC*s.K())
	wk := make([]float32, ConvPackedLen(s))
	dwk := make([]float32, ConvWeightGradLen(s))
	old := parallel.SetWorkers(1)
	defer parallel.SetWorkers(old)
	for b.Loop() {
		PackConvWeights(s, w, wk)
		UnpackConvWeightsGrad(s, dwk, w)
	}
}

func TestZZBNPool(t *testing.T) {
	m, c := 16*32*32, 64
	x := make([]float32, m*c)
	for i := range x {
		x[i] = float32(i%17) * 0.1
	}
	y := make([]float32, m*c)
	dy := make([]float32, m*c)
	dx := make([]float32, m*c)
	v := make([]float32, 8*c)
	mean, vr, a, b, d := v[:c], v[c:2*c], v[2*c:3*c], v[3*c:4*c], v[4*c:5*c]
	n := float64(m * c)
	for _, p := range []struct {
		name string
		fn   func()
	}{
		{"stats", func() { BatchNormStats(x, m, c, mean, vr) }},
		{"apply", func() { BatchNormApply(x, m, c, a, b, false, y) }},
		{"applyrelu", func() { BatchNormApply(x, m, c, a, b, true, y) }},
		{"reduce", func() { BatchNormBackwardReduce(x, dy, nil, m, c, mean, vr, a, b) }},
		{"reducerelu", func() { BatchNormBackwardReduce(x, dy, y, m, c, mean, vr, a, b) }},
		{"dx", func() { BatchNormBackwardInput(x, dy, nil, m, c, a, b, d, dx) }},
		{"maxpool", func() {
			s := Pool2dShape{N: 16, H: 32, W: 32, C: 64, K: 3, Stride: 2, Pad: 1}
			MaxPool2dForward(s, x, y[:16*16*16*64], dy[:16*16*16*64])
		}},
		{"gap", func() { GlobalAvgPoolForward(x, 16, 1024, 64, y[:16*64]) }},
	} {
		dd := cpuTime(5, p.fn)
		t.Logf("%-12s %6.2fms %5.2f ns/elem", p.name, dd.Seconds()*1e3, dd.Seconds()*1e9/n)
	}
}

func BenchmarkZZWall(b *testing.B) {
	for _, sh := range ResNet18CIFARConvShapes() {
		if sh.Name != "layer1.conv" && sh.Name != "layer4.conv" {
			continue
		}
		s := Conv2dShape{N: 16, H: sh.H, W: sh.W, C: sh.C, OC: sh.OC, KH: sh.K, KW: sh.K, Stride: sh.Stride, Pad: sh.Pad}
		x := make([]float32, s.N*s.H*s.W*s.C)
		wk := make([]float32, ConvPackedLen(s))
		dy := make([]float32, s.Rows()*s.OC)
		y := make([]float32, len(dy))
		scratch := make([]float32, ConvScratchLen(s))
		for _, w := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/fwd/w%d", sh.Name, w), func(b *testing.B) {
				old := parallel.SetWorkers(w)
				defer parallel.SetWorkers(old)
				for b.Loop() {
					Conv2dForward(s, x, wk, nil, y, scratch)
				}
				b.ReportMetric(s.FLOPs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func TestZZTune(t *testing.T) {
	for _, kc := range []int{128, 256, 384, 1 << 20} {
		for _, chunk := range []int{1 << 20, 2 << 20, 8 << 20} {
			convKC, ConvChunkBytes = kc, chunk
			line := fmt.Sprintf("kc %7d chunk %dM:", kc, chunk>>20)
			var tot time.Duration
			for _, sh := range ResNet18CIFARConvShapes() {
				if sh.Name != "layer1.conv" && sh.Name != "layer3.conv" && sh.Name != "layer4.conv" && sh.Name != "layer2.0.conv1" {
					continue
				}
				s := Conv2dShape{N: 16, H: sh.H, W: sh.W, C: sh.C, OC: sh.OC, KH: sh.K, KW: sh.K, Stride: sh.Stride, Pad: sh.Pad}
				x := make([]float32, s.N*s.H*s.W*s.C)
				wk := make([]float32, ConvPackedLen(s))
				dy := make([]float32, s.Rows()*s.OC)
				y := make([]float32, len(dy))
				dx := make([]float32, len(x))
				dwk := make([]float32, ConvWeightGradLen(s))
				scratch := make([]float32, ConvScratchLen(s))
				d := cpuTime(3, func() {
					Conv2dForward(s, x, wk, nil, y, scratch)
					Conv2dBackward(s, x, wk, dy, dx, dwk, scratch)
				})
				tot += d
				line += fmt.Sprintf(" %s %.0f", sh.Name, 3*s.FLOPs()/d.Seconds()/1e9)
			}
			t.Log(line, " total ms", tot.Seconds()*1e3)
		}
	}
	convKC, ConvChunkBytes = 256, 2<<20
}
