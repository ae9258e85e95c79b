package autograd

// Stubs for the convolution-family ops; each is deleted when its op_<name>.go lands.

import "contrastive/tensor"

// BatchNormState is the non-gradient state of a batch-norm layer.
type BatchNormState struct {
	RunningMean, RunningVar *tensor.Tensor // [C]
	Momentum, Eps           float32        // PyTorch defaults 0.1, 1e-5
	NumBatchesTracked       int64
}

// Conv2d: x NHWC [N,H,W,C], w OIHW [OC,C,KH,KW], b [OC] or nil -> [N,OH,OW,OC].
func Conv2d(x, w, b *Value, stride, pad int) *Value { notYet("Conv2d"); return nil }

// BatchNorm normalises over every axis but the last (channels).
func BatchNorm(x, gamma, beta *Value, st *BatchNormState, training bool) *Value {
	notYet("BatchNorm")
	return nil
}

// BatchNormReLU is ReLU(BatchNorm(...)) fused.
func BatchNormReLU(x, gamma, beta *Value, st *BatchNormState, training bool) *Value {
	notYet("BatchNormReLU")
	return nil
}

func MaxPool2d(x *Value, kernel, stride, pad int) *Value { notYet("MaxPool2d"); return nil }
func AvgPool2d(x *Value, kernel, stride, pad int) *Value { notYet("AvgPool2d"); return nil }

// GlobalAvgPool: [N,H,W,C] -> [N,C].
func GlobalAvgPool(x *Value) *Value { notYet("GlobalAvgPool"); return nil }
