package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// BatchNormState is the non-gradient state of a batch-norm layer.
type BatchNormState struct {
	RunningMean, RunningVar *tensor.Tensor // [C]
	Momentum, Eps           float32        // PyTorch defaults 0.1, 1e-5
	NumBatchesTracked       int64
	// Sync, when set, makes training-mode statistics those of the batch of
	// every process (synchronised batch norm): it must sum its argument
	// element-wise over the processes, in place (an all-reduce). The
	// forward pass sums each process's row count and per-channel sums of
	// x and x², the backward pass the two per-channel sums of the input
	// gradient; the gradients of γ and β stay this process's own, to be
	// averaged with every other gradient. Every process must run the
	// same batch norms in the same order.
	Sync func(sums []float64)
}

// NewBatchNormState returns the state of a fresh nn.BatchNorm2d(c):
// running mean 0, running variance 1, momentum 0.1, eps 1e-5.
func NewBatchNormState(c int) *BatchNormState {
	return &BatchNormState{
		RunningMean: tensor.New(c),
		RunningVar:  tensor.Full(1, c),
		Momentum:    0.1,
		Eps:         1e-5,
	}
}

// BatchNorm normalises over every axis but the last (channels), as
// nn.BatchNorm2d does on NHWC activations ([N,H,W,C]) and nn.BatchNorm1d on
// [N,C]:
//
//	y = (x − μ)/√(σ² + eps)·γ + β        x [..., C], γ, β [C] or nil (1, 0)
//
// In training mode μ and σ² are the batch mean and biased variance, the
// running statistics move towards the batch ones (running_var with the
// unbiased variance, M/(M−1)·σ²) by st.Momentum, and st.NumBatchesTracked
// grows by one; the gradient flows through μ and σ². In eval mode the
// running statistics are used as constants. A nil st (or one without
// running statistics) always uses batch statistics, like
// track_running_stats=False. The state changes even inside NoGrad, as in
// PyTorch.
func BatchNorm(x, gamma, beta *Value, st *BatchNormState, training bool) *Value {
	return batchNorm(OpBatchNorm, x, gamma, beta, st, training)
}

// BatchNormReLU is ReLU(BatchNorm(x, gamma, beta, st, training)) in one
// pass over x, with the ReLU mask taken from the output in backward.
func BatchNormReLU(x, gamma, beta *Value, st *BatchNormState, training bool) *Value {
	return batchNorm(OpBatchNormReLU, x, gamma, beta, st, training)
}

func batchNorm(op Op, x, gamma, beta *Value, st *BatchNormState, training bool) *Value {
	xs := x.Shape()
	if len(xs) < 2 {
		panic(fmt.Sprintf("autograd.%s: x %v, want at least [N, C]", op, xs))
	}
	c := xs[len(xs)-1]
	m := x.Data.Numel() / max(c, 1)
	for _, p := range []struct {
		name string
		t    *tensor.Tensor
	}{{"gamma", bnData(gamma)}, {"beta", bnData(beta)}, {"running_mean", bnRunMean(st)}, {"running_var", bnRunVar(st)}} {
		if p.t != nil && (p.t.Rank() != 1 || p.t.Dim(0) != c) {
			panic(fmt.Sprintf("autograd.%s: %s %v for x %v, want [%d]", op, p.name, p.t.Shape(), xs, c))
		}
	}
	running := st != nil && st.RunningMean != nil && st.RunningVar != nil
	useBatch := training || !running
	if useBatch && m < 2 {
		panic(fmt.Sprintf("autograd.%s: x %v: expected more than 1 value per channel when using batch statistics", op, xs))
	}
	eps := float32(1e-5)
	if st != nil {
		eps = st.Eps
	}

	// stats holds mean, variance, invstd, scale, shift, each [C]
	stats := tensor.GetDirty(5 * c)
	mean, variance := stats.Data[:c], stats.Data[c:2*c]
	invstd, scale, shift := stats.Data[2*c:3*c], stats.Data[3*c:4*c], stats.Data[4*c:]
	mAll := m // rows over every process (Sync)
	sync := training && st != nil && st.Sync != nil
	if useBatch {
		if sync {
			mAll = syncStats(st.Sync, x.Data.Data, m, c, mean, variance)
		} else {
			kernels.BatchNormStats(x.Data.Data, m, c, mean, variance)
		}
		if training && running {
			mom := st.Momentum
			unbias := float32(mAll) / float32(mAll-1)
			rm, rv := st.RunningMean.Data, st.RunningVar.Data
			for i := range c {
				rm[i] = (1-mom)*rm[i] + mom*mean[i]
				rv[i] = (1-mom)*rv[i] + mom*variance[i]*unbias
			}
			st.NumBatchesTracked++
		}
	} else {
		copy(mean, st.RunningMean.Data)
		copy(variance, st.RunningVar.Data)
	}
	var g, b []float32
	if gamma != nil {
		g = gamma.Data.Data
	}
	if beta != nil {
		b = beta.Data.Data
	}
	kernels.BatchNormScaleShift(mean, variance, g, b, eps, invstd, scale, shift)
	relu := op == OpBatchNormReLU
	out := tensor.GetDirty(xs...)
	kernels.BatchNormApply(x.Data.Data, m, c, scale, shift, relu, out.Data)

	backward := func(dy *tensor.Tensor) {
		var y []float32
		if relu {
			y = out.Data
		}
		needGamma := gamma != nil && gamma.requiresGrad
		needBeta := beta != nil && beta.requiresGrad
		tmp := tensor.GetDirty(5 * c)
		sumDy, sumDyXhat := tmp.Data[:c], tmp.Data[c:2*c]
		var sums []float64 // float64 sums of a synchronised batch norm
		switch {
		case sync && useBatch && (needGamma || needBeta || x.requiresGrad):
			sums = make([]float64, 2*c)
			kernels.BatchNormBackwardSums(x.Data.Data, dy.Data, y, m, c, mean, sums[:c], sums[c:])
			for i := range c {
				sumDy[i] = float32(sums[i])
				sumDyXhat[i] = float32(sums[c+i] * float64(invstd[i]))
			}
		case needGamma || needBeta || (x.requiresGrad && useBatch):
			kernels.BatchNormBackwardReduce(x.Data.Data, dy.Data, y, m, c, mean, invstd, sumDy, sumDyXhat)
		}
		if needGamma {
			bnAccum(gamma.GradBuf().Data, sumDyXhat)
		}
		if needBeta {
			bnAccum(beta.GradBuf().Data, sumDy)
		}
		if x.requiresGrad {
			a, bb, d := tmp.Data[2*c:3*c], tmp.Data[3*c:4*c], tmp.Data[4*c:]
			if sums != nil {
				// The input gradient goes through the statistics of every
				// process's rows: it needs the sums over all of them,
				// added in float64. (γ and β took this process's sums.)
				st.Sync(sums)
				for i := range c {
					sumDy[i] = float32(sums[i])
					sumDyXhat[i] = float32(sums[c+i] * float64(invstd[i]))
				}
			}
			kernels.BatchNormBackwardCoeffs(mAll, g, mean, invstd, sumDy, sumDyXhat, useBatch, a, bb, d)
			kernels.BatchNormBackwardInput(x.Data.Data, dy.Data, y, m, c, a, bb, d, x.GradBuf().Data)
		}
		tensor.Put(tmp)
	}
	inputs := []*Value{x}
	for _, p := range []*Value{gamma, beta} {
		if p != nil {
			inputs = append(inputs, p)
		}
	}
	v := newResult(op, out, false, backward, inputs...)
	if v.backward != nil {
		v.save(stats)
	} else {
		tensor.Put(stats)
	}
	return v
}

func bnData(v *Value) *tensor.Tensor {
	if v == nil {
		return nil
	}
	return v.Data
}

func bnRunMean(st *BatchNormState) *tensor.Tensor {
	if st == nil {
		return nil
	}
	return st.RunningMean
}

func bnRunVar(st *BatchNormState) *tensor.Tensor {
	if st == nil {
		return nil
	}
	return st.RunningVar
}

// bnAccum adds src into dst (a [C] parameter gradient).
func bnAccum(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}

// syncStats computes the batch statistics (mean and biased variance per
// channel) of the rows x [m, c] of every process through the all-reduce
// sync, and returns the total row count. It takes two reductions, as the
// parallel variance formula needs: the counts and sums give the mean μ,
// then
//
//	σ² = Σ_p (M2_p + m_p·(μ_p − μ)²) / M
//
// with each process's mean μ_p and sum of squared deviations M2_p in
// float64, which does not cancel when |μ| ≫ σ (a channel that is almost
// constant over the batch, as on MNIST's blank borders).
func syncStats(sync func([]float64), x []float32, m, c int, mean, variance []float32) int {
	mu, m2 := make([]float64, c), make([]float64, c)
	kernels.BatchNormMoments(x, m, c, mu, m2)
	buf := make([]float64, 1+c)
	buf[0] = float64(m)
	for i := range c {
		buf[1+i] = float64(m) * mu[i]
	}
	sync(buf)
	n := buf[0]
	v := buf[:c]
	for i := range c {
		g := buf[1+i] / n
		d := mu[i] - g
		mean[i] = float32(g)
		v[i] = m2[i] + float64(m)*d*d
	}
	sync(v)
	for i := range c {
		variance[i] = float32(v[i] / n)
	}
	return int(n)
}
