package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Conv3d is a 3-D convolution (nn.Conv3d, groups 1, dilation 1) with a
// square spatial kernel:
//
//	x [N, T, H, W, C]        activations, channels last
//	w [OC, C, KT, KH, KW]    weights, torchvision's OITHW
//	b [OC] or nil            bias
//	-> [N, OT, OH, OW, OC]   OT = (T + 2·padT − KT)/strideT + 1, OH likewise with stride, pad
//
// It runs as a sum over the temporal taps of 2-D convolutions of the
// input frames (kernels.Conv3dForward); backward accumulates dx, dw and db
// (kernels.Conv3dBackward, kernels.ConvBiasGrad).
func Conv3d(x, w, b *Value, strideT, stride, padT, pad int) *Value {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 5 || len(ws) != 5 || ws[1] != xs[4] {
		panic(fmt.Sprintf("autograd.Conv3d: x %v (want [N, T, H, W, C]) and w %v (want [OC, C, KT, KH, KW] with C = x's last axis)", xs, ws))
	}
	if b != nil && (b.Data.Rank() != 1 || b.Shape()[0] != ws[0]) {
		panic(fmt.Sprintf("autograd.Conv3d: bias %v for w %v, want [%d]", b.Shape(), ws, ws[0]))
	}
	s := kernels.Conv3dShape{N: xs[0], T: xs[1], H: xs[2], W: xs[3], C: xs[4], OC: ws[0], KT: ws[2], KH: ws[3], KW: ws[4],
		StrideT: strideT, Stride: stride, PadT: padT, Pad: pad}
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("autograd.Conv3d: x %v, w %v, stride (%d, %d), pad (%d, %d): %v", xs, ws, strideT, stride, padT, pad, err))
	}
	wk := tensor.GetDirty(kernels.Conv3dPackedLen(s))
	kernels.PackConv3dWeights(s, w.Data.Data, wk.Data)
	out := tensor.GetDirty(s.N, s.OutT(), s.OutH(), s.OutW(), s.OC)
	var bias []float32
	if b != nil {
		bias = b.Data.Data
	}
	scratch := tensor.GetDirty(kernels.Conv3dScratchLen(s))
	kernels.Conv3dForward(s, x.Data.Data, wk.Data, bias, out.Data, scratch.Data)
	tensor.Put(scratch)

	backward := func(g *tensor.Tensor) {
		var dx, dwk []float32
		if x.requiresGrad {
			dx = x.GradBuf().Data
		}
		var dwkT *tensor.Tensor
		if w.requiresGrad {
			dwkT = tensor.Get(kernels.Conv3dWeightGradLen(s))
			dwk = dwkT.Data
		}
		if dx != nil || dwk != nil {
			scratch := tensor.GetDirty(kernels.Conv3dBackwardScratchLen(s))
			kernels.Conv3dBackward(s, x.Data.Data, wk.Data, g.Data, dx, dwk, scratch.Data)
			tensor.Put(scratch)
		}
		if dwkT != nil {
			kernels.UnpackConv3dWeightsGrad(s, dwk, w.GradBuf().Data)
			tensor.Put(dwkT)
		}
		if b != nil && b.requiresGrad {
			kernels.ConvBiasGrad(g.Data, s.Rows(), s.OC, b.GradBuf().Data)
		}
	}
	var v *Value
	if b != nil {
		v = newResult(OpConv3d, out, false, backward, x, w, b)
	} else {
		v = newResult(OpConv3d, out, false, backward, x, w)
	}
	if v.backward != nil {
		v.save(wk)
	} else {
		tensor.Put(wk)
	}
	return v
}
