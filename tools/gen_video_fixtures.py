#!/usr/bin/python3
"""Write the PyTorch/torchvision reference fixtures for the 3-D encoders.

Run from the repository root with Debian's python3-torch and
python3-torchvision (torch 1.13, torchvision 0.14):

    /usr/bin/python3 tools/gen_video_fixtures.py

It writes
  autograd/testdata/conv3d.safetensors   Conv3d and MaxPool3d cases (read by autograd/op_conv3d_test.go)
  videomodels/testdata/<arch>_w<width>.safetensors   torchvision VideoResNet weights
      (random, non-trivial batch-norm statistics), an input clip and the
      eval-mode pooled features (read by videomodels/resnet3d_torch_test.go)
  videomodels/testdata/torchvision_video.txt   name, shape and parameter count of
      torchvision's r3d_18 and r2plus1d_18 at full width (fc removed)

Layout: PyTorch computes in NCTHW; activations are stored channels last
(NTHWC), weights as torchvision's OITHW. References are computed in
float64 from the float32 inputs and stored as float32; gradients are those
of sum(y * dy) for a random dy.

Width: torchvision's VideoResNet has no width option, so the narrow
fixtures come from ScaledVideoResNet below, torchvision's VideoResNet
__init__ with every channel count multiplied by the width (the blocks,
convolution builders and initialisation are torchvision's own).
"""
import os
import sys

import torch
import torch.nn as tnn
import torch.nn.functional as F
from torchvision.models.video import resnet as vr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402

PRODUCER = "tools/gen_video_fixtures.py"
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def cl(t):
    """NCTHW -> NTHWC."""
    return t.permute(0, 2, 3, 4, 1).contiguous() if t.dim() == 5 else t.contiguous()


def f32(t):
    return t.detach().to(torch.float32)


def rand(g, *shape):
    return (torch.rand(*shape, generator=g) * 2 - 1).to(torch.float32)


def conv3d_cases(g):
    # name, N, C, T, H, W, OC, (kt, k), (st, s), (pt, p), bias
    cases = [
        ("k333s111p111_c3_bias", 2, 3, 4, 6, 5, 4, (3, 3), (1, 1), (1, 1), True),
        ("k333s222p111_c5", 2, 5, 5, 7, 7, 6, (3, 3), (2, 2), (1, 1), False),
        ("k377s122p133_c3", 1, 3, 4, 12, 12, 4, (3, 7), (1, 2), (1, 3), False),
        ("k133s122p011_c4", 2, 4, 3, 8, 8, 5, (1, 3), (1, 2), (0, 1), False),
        ("k311s211p100_c6_bias", 2, 6, 5, 4, 4, 3, (3, 1), (2, 1), (1, 0), True),
        ("k111s222p000_c4", 2, 4, 4, 5, 5, 6, (1, 1), (2, 2), (0, 0), False),
        ("k177s122p033_c1", 1, 1, 2, 9, 10, 2, (1, 7), (1, 2), (0, 3), False),
    ]
    out = {}
    for name, n, c, t, h, w, oc, (kt, k), (st, s), (pt, p), bias in cases:
        x = rand(g, n, c, t, h, w)
        wt = rand(g, oc, c, kt, k, k) * 0.5
        b = rand(g, oc) if bias else None
        xd = x.double().requires_grad_()
        wd = wt.double().requires_grad_()
        bd = b.double().requires_grad_() if bias else None
        y = F.conv3d(xd, wd, bd, stride=(st, s, s), padding=(pt, p, p))
        dy = rand(g, *y.shape)
        (y * dy.double()).sum().backward()
        pre = "conv3d/" + name + "/"
        out[pre + "x"] = cl(x)
        out[pre + "w"] = wt
        out[pre + "dy"] = cl(dy)
        out[pre + "y"] = cl(f32(y))
        out[pre + "dx"] = cl(f32(xd.grad))
        out[pre + "dw"] = f32(wd.grad)
        out[pre + "stride_pad"] = torch.tensor([st, s, pt, p], dtype=torch.int64)
        if bias:
            out[pre + "b"] = b
            out[pre + "db"] = f32(bd.grad)
    # max pooling: name, (kt, k), (st, s), (pt, p)
    x = rand(g, 2, 3, 5, 7, 7)
    for name, (kt, k), (st, s), (pt, p) in [("k133s122p011", (1, 3), (1, 2), (0, 1)), ("k333s222p111", (3, 3), (2, 2), (1, 1)), ("k222s222p000", (2, 2), (2, 2), (0, 0))]:
        xd = x.double().requires_grad_()
        y = F.max_pool3d(xd, (kt, k, k), (st, s, s), (pt, p, p))
        dy = rand(g, *y.shape)
        (y * dy.double()).sum().backward()
        pre = "maxpool3d/" + name + "/"
        out[pre + "x"] = cl(x)
        out[pre + "dy"] = cl(dy)
        out[pre + "y"] = cl(f32(y))
        out[pre + "dx"] = cl(f32(xd.grad))
        out[pre + "params"] = torch.tensor([kt, k, st, s, pt, p], dtype=torch.int64)
    return out


class ScaledVideoResNet(vr.VideoResNet):
    """torchvision's VideoResNet.__init__ with channel counts × width."""

    def __init__(self, arch, width):
        tnn.Module.__init__(self)
        base = max(1, round(64 * width))
        if arch == "r3d_18":
            conv_makers = [vr.Conv3DSimple] * 4
            self.stem = tnn.Sequential(
                tnn.Conv3d(3, base, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
                tnn.BatchNorm3d(base), tnn.ReLU(inplace=True))
        else:
            conv_makers = [vr.Conv2Plus1D] * 4
            mid = max(1, round(45 * width))
            self.stem = tnn.Sequential(
                tnn.Conv3d(3, mid, kernel_size=(1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
                tnn.BatchNorm3d(mid), tnn.ReLU(inplace=True),
                tnn.Conv3d(mid, base, kernel_size=(3, 1, 1), stride=(1, 1, 1), padding=(1, 0, 0), bias=False),
                tnn.BatchNorm3d(base), tnn.ReLU(inplace=True))
        self.inplanes = base
        block = vr.BasicBlock
        self.layer1 = self._make_layer(block, conv_makers[0], base, 2, stride=1)
        self.layer2 = self._make_layer(block, conv_makers[1], base * 2, 2, stride=2)
        self.layer3 = self._make_layer(block, conv_makers[2], base * 4, 2, stride=2)
        self.layer4 = self._make_layer(block, conv_makers[3], base * 8, 2, stride=2)
        self.avgpool = tnn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = tnn.Identity()
        for m in self.modules():
            if isinstance(m, tnn.Conv3d):
                tnn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, tnn.BatchNorm3d):
                tnn.init.constant_(m.weight, 1)
                tnn.init.constant_(m.bias, 0)


def randomize(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, tnn.BatchNorm3d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(3)


def model_fixture(arch, width, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    m = ScaledVideoResNet(arch, width)
    randomize(m, gen)
    m.eval()
    x = torch.randn(2, 3, 8, 32, 32, generator=gen)
    with torch.no_grad():
        feats = m.double()(x.double()).float()
    m.float()
    tensors = {k: v for k, v in m.state_dict().items()}
    tensors["input.ncthw"] = x
    tensors["input.nthwc"] = cl(x)
    tensors["features"] = feats
    meta = {"producer": PRODUCER, "arch": arch, "width": str(width), "in_channels": "3",
            "torch": torch.__version__}
    path = os.path.join(ROOT, "videomodels", "testdata", "%s_w%s.safetensors" % (arch, width))
    stwrite.write(path, tensors, meta)
    print("wrote", path)


def names():
    lines = []
    for arch, fn in (("r3d_18", vr.r3d_18), ("r2plus1d_18", vr.r2plus1d_18)):
        m = fn()
        m.fc = tnn.Identity()
        n = sum(p.numel() for p in m.parameters())
        lines.append("# %s params %d" % (arch, n))
        for k, v in m.state_dict().items():
            lines.append("%s %s %s" % (arch, k, "x".join(str(s) for s in v.shape) or "scalar"))
    path = os.path.join(ROOT, "videomodels", "testdata", "torchvision_video.txt")
    with open(path, "w") as f:
        f.write("# written by %s (torchvision's r3d_18/r2plus1d_18 state_dict without fc)\n" % PRODUCER)
        f.write("\n".join(lines) + "\n")
    print("wrote", path)


def main():
    g = torch.Generator().manual_seed(16)
    path = os.path.join(ROOT, "autograd", "testdata", "conv3d.safetensors")
    stwrite.write(path, conv3d_cases(g), {"producer": PRODUCER})
    print("wrote", path)
    model_fixture("r3d_18", 0.0625, 3)
    model_fixture("r2plus1d_18", 0.0625, 4)
    names()


if __name__ == "__main__":
    main()
