package autograd_test

import (
	"math/rand/v2"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// BenchmarkOps times forward + backward + Free of each op at the sizes a
// contrastive training step uses (ResNet-50 features 2048, projections
// 128, batch 256). flops, when set, is the multiply-add count ×2 of
// forward and backward together and is reported as GFLOP/s.
func BenchmarkOps(b *testing.B) {
	idx := make([]int, 256)
	for i := range idx {
		idx[i] = (i * 13) % 4096
	}
	targets := make([]int, 256)
	cases := []struct {
		name  string
		in    []*tensor.Tensor
		f     func(v []*autograd.Value) *autograd.Value
		flops float64
	}{
		{"Linear/256x2048x128", ts(randT(1, 256, 2048), randT(2, 128, 2048), randT(3, 128)),
			func(v []*autograd.Value) *autograd.Value { return autograd.Linear(v[0], v[1], v[2]) }, 3 * 2 * 256 * 2048 * 128},
		{"MatMul/256x128x4096", ts(randT(4, 256, 128), randT(5, 4096, 128)),
			func(v []*autograd.Value) *autograd.Value { return autograd.MatMul(v[0], v[1], false, true) }, 3 * 2 * 256 * 128 * 4096},
		{"Add/bias/256x2048", ts(randT(6, 256, 2048), randT(7, 2048)),
			func(v []*autograd.Value) *autograd.Value { return autograd.Add(v[0], v[1]) }, 0},
		{"Mul/same/1M", ts(randT(8, 1<<20), randT(9, 1<<20)),
			func(v []*autograd.Value) *autograd.Value { return autograd.Mul(v[0], v[1]) }, 0},
		{"ReLU/1M", ts(randT(10, 1<<20)),
			func(v []*autograd.Value) *autograd.Value { return autograd.ReLU(v[0]) }, 0},
		{"Sum/axis0/256x2048", ts(randT(11, 256, 2048)),
			func(v []*autograd.Value) *autograd.Value { return autograd.Sum(v[0], []int{0}, false) }, 0},
		{"L2Normalize/512x128", ts(randT(12, 512, 128)),
			func(v []*autograd.Value) *autograd.Value { return autograd.L2Normalize(v[0], 1e-12) }, 0},
		{"Softmax/256x4097", ts(randT(13, 256, 4097)),
			func(v []*autograd.Value) *autograd.Value { return autograd.Softmax(v[0]) }, 0},
		{"CrossEntropy/256x4097", ts(randT(14, 256, 4097)),
			func(v []*autograd.Value) *autograd.Value { return autograd.CrossEntropy(v[0], targets) }, 0},
		{"IndexSelect/256of4096x128", ts(randT(15, 4096, 128)),
			func(v []*autograd.Value) *autograd.Value { return autograd.IndexSelect(v[0], idx) }, 0},
		{"Permute/NHWC-NCHW/32x32x32x64", ts(randT(16, 32, 32, 32, 64)),
			func(v []*autograd.Value) *autograd.Value { return autograd.Permute(v[0], 0, 3, 1, 2) }, 0},
		{"Dropout/1M", ts(randT(17, 1<<20)),
			func(v []*autograd.Value) *autograd.Value {
				return autograd.Dropout(v[0], 0.1, rand.New(rand.NewPCG(1, 2)), true)
			}, 0},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			vs := make([]*autograd.Value, len(c.in))
			for i, x := range c.in {
				vs[i] = autograd.Param(x)
			}
			var seed *tensor.Tensor
			b.ReportAllocs()
			for b.Loop() {
				y := c.f(vs)
				if seed == nil {
					seed = tensor.Full(1, y.Shape()...)
				}
				autograd.BackwardWith(y, seed)
				autograd.Free(y)
				for _, v := range vs {
					v.ZeroGrad()
				}
			}
			if c.flops > 0 {
				b.ReportMetric(c.flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			}
		})
	}
}
