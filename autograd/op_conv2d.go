package autograd

import (
	"fmt"

	"github.com/contrastive-ssl/contrastive/kernels"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Conv2d is a 2-D convolution (cross-correlation, as nn.Conv2d) with a
// square stride and zero padding on every side:
//
//	x [N, H, W, C]       activations, NHWC
//	w [OC, C, KH, KW]    weights, torchvision's OIHW
//	b [OC] or nil        bias
//	-> [N, OH, OW, OC]   OH = (H + 2·pad − KH)/stride + 1
//
// It runs as a GEMM over im2col chunks (kernels.Conv2dForward); a 1×1
// stride-1 unpadded convolution is a GEMM on x directly. Backward
// accumulates dx, dw and db (kernels.Conv2dBackward, kernels.ConvBiasGrad).
func Conv2d(x, w, b *Value, stride, pad int) *Value {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || ws[1] != xs[3] {
		panic(fmt.Sprintf("autograd.Conv2d: x %v (want NHWC) and w %v (want [OC, C, KH, KW] with C = x's last axis)", xs, ws))
	}
	if b != nil && (b.Data.Rank() != 1 || b.Shape()[0] != ws[0]) {
		panic(fmt.Sprintf("autograd.Conv2d: bias %v for w %v, want [%d]", b.Shape(), ws, ws[0]))
	}
	s := kernels.Conv2dShape{N: xs[0], H: xs[1], W: xs[2], C: xs[3], OC: ws[0], KH: ws[2], KW: ws[3], Stride: stride, Pad: pad}
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("autograd.Conv2d: x %v, w %v, stride %d, pad %d: %v", xs, ws, stride, pad, err))
	}
	wk := tensor.GetDirty(kernels.ConvPackedLen(s))
	kernels.PackConvWeights(s, w.Data.Data, wk.Data)
	out := tensor.GetDirty(s.N, s.OutH(), s.OutW(), s.OC)
	var bias []float32
	if b != nil {
		bias = b.Data.Data
	}
	scratch := tensor.GetDirty(kernels.ConvScratchLen(s))
	kernels.Conv2dForward(s, x.Data.Data, wk.Data, bias, out.Data, scratch.Data)
	tensor.Put(scratch)

	backward := func(g *tensor.Tensor) {
		var dx, dwk []float32
		if x.requiresGrad {
			dx = x.GradBuf().Data
		}
		var dwkT *tensor.Tensor
		if w.requiresGrad {
			dwkT = tensor.Get(kernels.ConvWeightGradLen(s))
			dwk = dwkT.Data
		}
		if dx != nil || dwk != nil {
			scratch := tensor.GetDirty(kernels.ConvScratchLen(s))
			kernels.Conv2dBackward(s, x.Data.Data, wk.Data, g.Data, dx, dwk, scratch.Data)
			tensor.Put(scratch)
		}
		if dwkT != nil {
			kernels.UnpackConvWeightsGrad(s, dwk, w.GradBuf().Data)
			tensor.Put(dwkT)
		}
		if b != nil && b.requiresGrad {
			kernels.ConvBiasGrad(g.Data, s.Rows(), s.OC, b.GradBuf().Data)
		}
	}
	var v *Value
	if b != nil {
		v = newResult(OpConv2d, out, false, backward, x, w, b)
	} else {
		v = newResult(OpConv2d, out, false, backward, x, w)
	}
	if v.backward != nil {
		v.save(wk)
	} else {
		tensor.Put(wk)
	}
	return v
}
