package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

func poolShape(op Op, x *Value, kernel, stride, pad int) kernels.Pool2dShape {
	xs := x.Shape()
	if len(xs) != 4 {
		panic(fmt.Sprintf("autograd.%s: x %v, want NHWC [N, H, W, C]", op, xs))
	}
	s := kernels.Pool2dShape{N: xs[0], H: xs[1], W: xs[2], C: xs[3], K: kernel, Stride: stride, Pad: pad}
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("autograd.%s: x %v, kernel %d, stride %d, pad %d: %v", op, xs, kernel, stride, pad, err))
	}
	return s
}

// MaxPool2d is nn.MaxPool2d(kernel, stride, pad) on NHWC activations:
//
//	x [N, H, W, C] -> [N, OH, OW, C], OH = (H + 2·pad − kernel)/stride + 1
//
// Padding counts as −inf. The position of each maximum is kept (in a
// pooled buffer released by Free) and backward routes the gradient there.
func MaxPool2d(x *Value, kernel, stride, pad int) *Value {
	s := poolShape(OpMaxPool2d, x, kernel, stride, pad)
	out := tensor.GetDirty(s.N, s.OutH(), s.OutW(), s.C)
	arg := tensor.GetDirty(s.N, s.OutH(), s.OutW(), s.C)
	kernels.MaxPool2dForward(s, x.Data.Data, out.Data, arg.Data)
	v := newResult(OpMaxPool2d, out, false, func(g *tensor.Tensor) {
		kernels.MaxPool2dBackward(s, g.Data, arg.Data, x.GradBuf().Data)
	}, x)
	if v.backward != nil {
		v.save(arg)
	} else {
		tensor.Put(arg)
	}
	return v
}

// AvgPool2d is nn.AvgPool2d(kernel, stride, pad) on NHWC activations with
// PyTorch's default count_include_pad=True: every window divides by
// kernel², padding cells counting as zeros.
//
//	x [N, H, W, C] -> [N, OH, OW, C]
func AvgPool2d(x *Value, kernel, stride, pad int) *Value {
	s := poolShape(OpAvgPool2d, x, kernel, stride, pad)
	out := tensor.GetDirty(s.N, s.OutH(), s.OutW(), s.C)
	kernels.AvgPool2dForward(s, x.Data.Data, out.Data)
	return newResult(OpAvgPool2d, out, false, func(g *tensor.Tensor) {
		kernels.AvgPool2dBackward(s, g.Data, x.GradBuf().Data)
	}, x)
}

// GlobalAvgPool averages over the spatial axes (nn.AdaptiveAvgPool2d(1)
// followed by flatten):
//
//	x [N, H, W, C] -> [N, C]
func GlobalAvgPool(x *Value) *Value {
	xs := x.Shape()
	if len(xs) != 4 || xs[1]*xs[2] == 0 {
		panic(fmt.Sprintf("autograd.GlobalAvgPool: x %v, want NHWC [N, H, W, C] with H, W > 0", xs))
	}
	n, hw, c := xs[0], xs[1]*xs[2], xs[3]
	out := tensor.GetDirty(n, c)
	kernels.GlobalAvgPoolForward(x.Data.Data, n, hw, c, out.Data)
	return newResult(OpGlobalAvgPool, out, false, func(g *tensor.Tensor) {
		kernels.GlobalAvgPoolBackward(g.Data, n, hw, c, x.GradBuf().Data)
	}, x)
}
