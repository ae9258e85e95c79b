package tensor

import "fmt"

// FromNCHW converts an NCHW tensor (torchvision's activation layout) into a
// new NHWC tensor, the engine's activation layout.
func FromNCHW(src *Tensor) *Tensor {
	if src.Rank() != 4 {
		panic(fmt.Sprintf("tensor.FromNCHW: want rank 4, got shape %v", src.shape))
	}
	n, c, h, w := src.shape[0], src.shape[1], src.shape[2], src.shape[3]
	dst := New(n, h, w, c)
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			s := src.Data[(b*c+ch)*h*w:]
			for p := 0; p < h*w; p++ {
				dst.Data[(b*h*w+p)*c+ch] = s[p]
			}
		}
	}
	return dst
}

// ToNCHW converts an NHWC tensor into a new NCHW tensor.
func ToNCHW(src *Tensor) *Tensor {
	if src.Rank() != 4 {
		panic(fmt.Sprintf("tensor.ToNCHW: want rank 4, got shape %v", src.shape))
	}
	n, h, w, c := src.shape[0], src.shape[1], src.shape[2], src.shape[3]
	dst := New(n, c, h, w)
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			d := dst.Data[(b*c+ch)*h*w:]
			for p := 0; p < h*w; p++ {
				d[p] = src.Data[(b*h*w+p)*c+ch]
			}
		}
	}
	return dst
}
