package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// MaxPool3d is nn.MaxPool3d((kt, k, k), (strideT, stride, stride),
// (padT, pad, pad)) on channels-last clips:
//
//	x [N, T, H, W, C] -> [N, OT, OH, OW, C]
//
// Padding counts as −inf; backward routes the gradient to each window's
// maximum.
func MaxPool3d(x *Value, kt, k, strideT, stride, padT, pad int) *Value {
	xs := x.Shape()
	if len(xs) != 5 {
		panic(fmt.Sprintf("autograd.MaxPool3d: x %v, want [N, T, H, W, C]", xs))
	}
	s := kernels.Pool3dShape{N: xs[0], T: xs[1], H: xs[2], W: xs[3], C: xs[4], KT: kt, K: k, StrideT: strideT, Stride: stride, PadT: padT, Pad: pad}
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("autograd.MaxPool3d: x %v: %v", xs, err))
	}
	out := tensor.GetDirty(s.N, s.OutT(), s.OutH(), s.OutW(), s.C)
	arg := tensor.GetDirty(s.N, s.OutT(), s.OutH(), s.OutW(), s.C)
	kernels.MaxPool3dForward(s, x.Data.Data, out.Data, arg.Data)
	v := newResult(OpMaxPool3d, out, false, func(g *tensor.Tensor) {
		kernels.MaxPool3dBackward(s, g.Data, arg.Data, x.GradBuf().Data)
	}, x)
	if v.backward != nil {
		v.save(arg)
	} else {
		tensor.Put(arg)
	}
	return v
}

// GlobalAvgPool3d averages over time and space (nn.AdaptiveAvgPool3d(1)
// followed by flatten):
//
//	x [N, T, H, W, C] -> [N, C]
//
// It is GlobalAvgPool over the clip viewed as [N, T·H, W, C].
func GlobalAvgPool3d(x *Value) *Value {
	xs := x.Shape()
	if len(xs) != 5 {
		panic(fmt.Sprintf("autograd.GlobalAvgPool3d: x %v, want [N, T, H, W, C]", xs))
	}
	return GlobalAvgPool(Reshape(x, xs[0], xs[1]*xs[2], xs[3], xs[4]))
}
