package autograd_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/contrastive-ssl/contrastive/autograd"
	"github.com/contrastive-ssl/contrastive/tensor"
)

func TestBatchNormMatchesTorch(t *testing.T) {
	f := loadConvFixture(t, "conv_batchnorm.safetensors")
	cases := fixtureCases(f, "bn")
	if len(cases) < 6 {
		t.Fatalf("conv_batchnorm.safetensors holds %d cases, want 6 (re-run `%s`)", len(cases), convFixtureScript)
	}
	for _, pre := range cases {
		name := strings.TrimSuffix(strings.TrimPrefix(pre, "bn/"), "/")
		t.Run(name, func(t *testing.T) {
			training := strings.HasSuffix(name, "/train")
			op := autograd.BatchNorm
			if strings.Contains(name, "relu") {
				op = autograd.BatchNormReLU
			}
			x := autograd.Param(fixtureTensor(t, f, pre+"x"))
			gamma := autograd.Param(fixtureTensor(t, f, pre+"gamma"))
			beta := autograd.Param(fixtureTensor(t, f, pre+"beta"))
			st := autograd.NewBatchNormState(gamma.Shape()[0])
			st.RunningMean = fixtureTensor(t, f, pre+"running_mean_in")
			st.RunningVar = fixtureTensor(t, f, pre+"running_var_in")
			y := op(x, gamma, beta, st, training)
			expectClose(t, "y", y.Data, fixtureTensor(t, f, pre+"y"), 1e-4)
			expectClose(t, "running_mean", st.RunningMean, fixtureTensor(t, f, pre+"running_mean"), 1e-5)
			expectClose(t, "running_var", st.RunningVar, fixtureTensor(t, f, pre+"running_var"), 1e-5)
			wantTracked := int64(0)
			if training {
				wantTracked = 1
			}
			if st.NumBatchesTracked != wantTracked {
				t.Errorf("NumBatchesTracked = %d, want %d", st.NumBatchesTracked, wantTracked)
			}
			autograd.BackwardWith(y, fixtureTensor(t, f, pre+"dy"))
			expectClose(t, "dx", x.Grad, fixtureTensor(t, f, pre+"dx"), 1e-4)
			expectClose(t, "dgamma", gamma.Grad, fixtureTensor(t, f, pre+"dgamma"), 1e-4)
			expectClose(t, "dbeta", beta.Grad, fixtureTensor(t, f, pre+"dbeta"), 1e-4)
			autograd.Free(y)
		})
	}
}

// TestBatchNormLargeMean checks the one-pass statistics where the mean is
// far larger than the spread (E[x²] − E[x]² would lose every digit in
// float32 without the shift).
func TestBatchNormLargeMean(t *testing.T) {
	const m, c = 1000, 3
	x := tensor.New(m, c)
	for i := 0; i < m; i++ {
		for j := 0; j < c; j++ {
			x.Data[i*c+j] = 1000 + float32(j+1)*float32(i%2*2-1) // ±(j+1) around 1000
		}
	}
	st := autograd.NewBatchNormState(c)
	y := autograd.BatchNorm(autograd.Const(x), nil, nil, st, true)
	for j := 0; j < c; j++ {
		wantMean := 0.1 * 1000.0
		wantVar := 0.9 + 0.1*float64((j+1)*(j+1))*m/(m-1)
		if d := float64(st.RunningMean.Data[j]) - wantMean; d > 1e-3 || d < -1e-3 {
			t.Errorf("running_mean[%d] = %v, want %v", j, st.RunningMean.Data[j], wantMean)
		}
		if d := float64(st.RunningVar.Data[j]) - wantVar; d > 1e-4 || d < -1e-4 {
			t.Errorf("running_var[%d] = %v, want %v", j, st.RunningVar.Data[j], wantVar)
		}
		// normalised values are ±1 up to eps
		if got := y.Data.Data[j]; got > -0.99 || got < -1.01 {
			t.Errorf("y[0][%d] = %v, want ≈ −1", j, got)
		}
	}
}

func TestBatchNormEvalWithoutState(t *testing.T) {
	// nil state: batch statistics even in eval mode (track_running_stats=False)
	x := tensor.FromSlice([]float32{1, 10, 3, 30}, 2, 2)
	y := autograd.BatchNorm(autograd.Const(x), nil, nil, nil, false)
	want := []float32{-1, -1, 1, 1}
	for i, v := range y.Data.Data {
		if d := v - want[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("y = %v, want ≈ %v", y.Data.Data, want)
		}
	}
}

func TestBatchNormPanics(t *testing.T) {
	for i, fn := range []func(){
		func() {
			autograd.BatchNorm(autograd.Const(tensor.New(1, 4)), nil, nil, autograd.NewBatchNormState(4), true)
		}, // one value per channel
		func() {
			autograd.BatchNorm(autograd.Const(tensor.New(2, 4)), autograd.Const(tensor.New(3)), nil, autograd.NewBatchNormState(4), true)
		}, // gamma
		func() {
			autograd.BatchNorm(autograd.Const(tensor.New(2, 4)), nil, nil, autograd.NewBatchNormState(5), false)
		}, // state
		func() { autograd.BatchNormReLU(autograd.Const(tensor.New(4)), nil, nil, nil, true) }, // rank 1
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, "autograd.BatchNorm") {
					t.Errorf("case %d: panic %v, want one naming autograd.BatchNorm", i, r)
				}
			}()
			fn()
		}()
	}
}

func init() {
	// x, gamma, beta; beta ±4 keeps every BatchNormReLU pre-activation far
	// from the ReLU kink, with one channel always on and one always off.
	x := func(seed uint64) *tensor.Tensor { return randTensor(seed, -1, 2, 2, 3, 3, 4) }
	gamma := func() *tensor.Tensor { return tensor.FromSlice([]float32{0.5, 1.5, -1, 0.8}, 4) }
	beta := func() *tensor.Tensor { return tensor.FromSlice([]float32{4, -4, 4, -0.25}, 4) }
	reluBeta := func() *tensor.Tensor { return tensor.FromSlice([]float32{4, -4, 4, -4}, 4) }
	evalState := func() *autograd.BatchNormState {
		st := autograd.NewBatchNormState(4)
		copy(st.RunningMean.Data, []float32{0.2, -0.1, 0.5, 0})
		copy(st.RunningVar.Data, []float32{0.9, 1.3, 0.4, 2})
		return st
	}
	bn := func(op func(x, g, b *autograd.Value, st *autograd.BatchNormState, training bool) *autograd.Value, training bool) func(v []*autograd.Value) *autograd.Value {
		return func(v []*autograd.Value) *autograd.Value { return op(v[0], v[1], v[2], evalState(), training) }
	}
	gradCases = append(gradCases,
		gradCase{op: autograd.OpBatchNorm, name: "BatchNorm/train", in: []*tensor.Tensor{x(11), gamma(), beta()}, f: bn(autograd.BatchNorm, true)},
		gradCase{op: autograd.OpBatchNorm, name: "BatchNorm/eval", in: []*tensor.Tensor{x(12), gamma(), beta()}, f: bn(autograd.BatchNorm, false)},
		gradCase{op: autograd.OpBatchNorm, name: "BatchNorm/train_2d", in: []*tensor.Tensor{randTensor(13, -1, 1, 6, 4), gamma(), beta()}, f: bn(autograd.BatchNorm, true)},
		gradCase{op: autograd.OpBatchNormReLU, name: "BatchNormReLU/train", in: []*tensor.Tensor{x(14), gamma(), reluBeta()}, f: bn(autograd.BatchNormReLU, true)},
		gradCase{op: autograd.OpBatchNormReLU, name: "BatchNormReLU/eval", in: []*tensor.Tensor{x(15), gamma(), reluBeta()}, f: bn(autograd.BatchNormReLU, false)},
	)
}

func ExampleBatchNorm() {
	// Four samples of one channel: training mode normalises with the batch
	// statistics and moves the running ones by momentum 0.1.
	st := autograd.NewBatchNormState(1)
	x := autograd.Const(tensor.FromSlice([]float32{1, 2, 3, 4}, 4, 1))
	y := autograd.BatchNorm(x, nil, nil, st, true)
	fmt.Printf("y %.4f\n", y.Data.Data)
	fmt.Printf("running mean %.4f, var %.4f, batches %d\n", st.RunningMean.Data[0], st.RunningVar.Data[0], st.NumBatchesTracked)
	// Output:
	// y [-1.3416 -0.4472 0.4472 1.3416]
	// running mean 0.2500, var 1.0667, batches 1
}
