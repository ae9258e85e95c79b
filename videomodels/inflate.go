package videomodels

import (
	"fmt"
	"strings"

	"github.com/contrastive-ssl/contrastive/nn"
	"github.com/contrastive-ssl/contrastive/tensor"
)

// Inflate copies a 2-D ResNet-18's state (torchvision names: conv1.weight,
// bn1.*, layer1.0.conv1.weight, …) into an r3d_18 encoder of the same
// width and input channels, I3D-style (Carreira and Zisserman,
// arXiv:1705.07750): each k×k kernel is repeated over the KT frames of the
// 3-D kernel and divided by KT, so a clip of identical frames gives the
// 2-D network's activations; batch norms are copied unchanged. Every
// tensor of the 3-D encoder must be filled; the error lists the missing
// or mismatched ones. Unused 2-D tensors (fc, heads) are ignored. A 2-D
// network with the CIFAR stem (3×3 conv1) inflates too: its kernel is
// centred in the 7×7 one.
func Inflate(r *VideoResNet, src map[string]*tensor.Tensor) error {
	if r.cfg.Arch != R3D18 {
		return fmt.Errorf("videomodels: inflation needs %s (a 3×3×3 network); %s factors its kernels", R3D18, r.cfg.Arch)
	}
	var bad []string
	for _, e := range nn.State(r) {
		name := name2d(e.Name)
		s, ok := src[name]
		if !ok {
			bad = append(bad, fmt.Sprintf("%s (from 2-D %s): missing", e.Name, name))
			continue
		}
		if e.I64 != nil {
			continue // num_batches_tracked: not needed for eval or training
		}
		dst := e.F32
		if dst.Rank() == 5 {
			sh := dst.Shape()
			oc, c, kt, kh, kw := sh[0], sh[1], sh[2], sh[3], sh[4]
			// A smaller odd 2-D kernel (the CIFAR stem's 3×3 for the 7×7
			// stem) sits at the centre of the 3-D one, zeros around it.
			ss := s.Shape()
			if s.Rank() != 4 || ss[0] != oc || ss[1] != c || ss[2] > kh || ss[3] > kw || (kh-ss[2])%2 != 0 || (kw-ss[3])%2 != 0 {
				bad = append(bad, fmt.Sprintf("%s: 2-D %s %v, want [%d %d %d %d] (or a smaller centred kernel)", e.Name, name, s.Shape(), oc, c, kh, kw))
				continue
			}
			sh2, sw2 := ss[2], ss[3]
			oy, ox := (kh-sh2)/2, (kw-sw2)/2
			dst.Zero()
			for oi := 0; oi < oc*c; oi++ {
				for t := 0; t < kt; t++ {
					d := dst.Data[(oi*kt+t)*kh*kw:][:kh*kw]
					for y := 0; y < sh2; y++ {
						for x := 0; x < sw2; x++ {
							d[(y+oy)*kw+x+ox] = s.Data[(oi*sh2+y)*sw2+x] / float32(kt)
						}
					}
				}
			}
			continue
		}
		if !tensor.SameShape(dst, s) {
			bad = append(bad, fmt.Sprintf("%s: 2-D %s %v, want %v", e.Name, name, s.Shape(), dst.Shape()))
			continue
		}
		copy(dst.Data, s.Data)
	}
	if len(bad) > 0 {
		return fmt.Errorf("videomodels: inflate: %d tensors do not match: %s", len(bad), strings.Join(bad, "; "))
	}
	return nil
}

// name2d maps an r3d_18 tensor name to its torchvision resnet18 source:
// stem.0 → conv1, stem.1 → bn1, layerX.Y.conv1.0 → layerX.Y.conv1,
// conv1.1 → bn1, conv2.0 → conv2, conv2.1 → bn2; downsample keeps its name.
func name2d(n string) string {
	for _, r := range [][2]string{
		{"stem.0.", "conv1."}, {"stem.1.", "bn1."},
		{".conv1.0.", ".conv1."}, {".conv1.1.", ".bn1."},
		{".conv2.0.", ".conv2."}, {".conv2.1.", ".bn2."},
	} {
		if strings.HasPrefix(n, r[0]) {
			return r[1] + n[len(r[0]):]
		}
		if i := strings.Index(n, r[0]); i >= 0 {
			return n[:i] + r[1] + n[i+len(r[0]):]
		}
	}
	return n
}
