#!/usr/bin/python3
"""Write the PyTorch reference fixtures for the convolution-family ops.

Run from the repository root with Debian's python3-torch:

    /usr/bin/python3 tools/gen_conv_fixtures.py

It writes autograd/testdata/conv_conv2d.safetensors,
conv_batchnorm.safetensors and conv_pool.safetensors, read by
autograd/op_conv2d_test.go, op_batchnorm_test.go and op_pool_test.go.

Layout: PyTorch computes in NCHW; every activation (x, y, dy, dx) is
permuted to the engine's NHWC before it is stored, weights stay OIHW.
Inputs are float32; the references are computed in float64 from those
float32 values and stored as float32. For each case the upstream gradient
dy is random and the gradients are those of sum(y * dy).
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402

PRODUCER = "tools/gen_conv_fixtures.py"
OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "autograd", "testdata"))


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous() if t.dim() == 4 else t.contiguous()


def f32(t):
    return t.detach().to(torch.float32)


def rand(g, *shape):
    return (torch.rand(*shape, generator=g) * 2 - 1).to(torch.float32)


def conv_cases(g):
    # name, N, C, H, W, OC, K, stride, pad, bias
    cases = [
        ("k3s1p1_c3_bias", 2, 3, 8, 7, 4, 3, 1, 1, True),
        ("k3s1p1_c1_nobias", 2, 1, 6, 6, 3, 3, 1, 1, False),
        ("k3s2p1_c3_nobias", 2, 3, 9, 9, 5, 3, 2, 1, False),
        ("k3s2p1_c8_bias", 2, 8, 8, 8, 6, 3, 2, 1, True),
        ("k1s2p0_c4_nobias", 2, 4, 7, 7, 6, 1, 2, 0, False),
        ("k1s1p0_c5_bias", 2, 5, 5, 5, 3, 1, 1, 0, True),
        ("k7s2p3_c3_nobias", 2, 3, 12, 12, 4, 7, 2, 3, False),
        ("k7s2p3_c1_bias", 1, 1, 9, 10, 2, 7, 2, 3, True),
    ]
    out = {}
    for name, n, c, h, w, oc, k, s, p, bias in cases:
        x = rand(g, n, c, h, w)
        wt = rand(g, oc, c, k, k) * 0.5
        b = rand(g, oc) if bias else None
        xd = x.double().requires_grad_()
        wd = wt.double().requires_grad_()
        bd = b.double().requires_grad_() if bias else None
        y = F.conv2d(xd, wd, bd, stride=s, padding=p)
        dy = rand(g, *y.shape)
        (y * dy.double()).sum().backward()
        pre = "conv2d/" + name + "/"
        out[pre + "x"] = nhwc(x)
        out[pre + "w"] = wt
        out[pre + "dy"] = nhwc(dy)
        out[pre + "y"] = nhwc(f32(y))
        out[pre + "dx"] = nhwc(f32(xd.grad))
        out[pre + "dw"] = f32(wd.grad)
        out[pre + "stride_pad"] = torch.tensor([s, p], dtype=torch.int64)
        if bias:
            out[pre + "b"] = b
            out[pre + "db"] = f32(bd.grad)
    return out


def bn_cases(g):
    out = {}
    # name, shape (NCHW or NC), relu
    cases = [("nchw", (4, 6, 5, 3), False), ("nc", (8, 5), False), ("nchw_relu", (3, 4, 4, 5), True)]
    for name, shape, relu in cases:
        c = shape[1]
        x = rand(g, *shape) * 2 + 0.5
        gamma = rand(g, c) + 1.5
        beta = rand(g, c)
        rm0 = rand(g, c) * 0.1
        rv0 = torch.rand(c, generator=g).to(torch.float32) + 0.5
        for mode in ("train", "eval"):
            training = mode == "train"
            xd = x.double().requires_grad_()
            gd = gamma.double().requires_grad_()
            bd = beta.double().requires_grad_()
            rm = rm0.double().clone()
            rv = rv0.double().clone()
            y = F.batch_norm(xd, rm, rv, gd, bd, training=training, momentum=0.1, eps=1e-5)
            if relu:
                y = F.relu(y)
            dy = rand(g, *y.shape)
            (y * dy.double()).sum().backward()
            pre = "bn/%s/%s/" % (name, mode)
            out[pre + "x"] = nhwc(x)
            out[pre + "gamma"] = gamma
            out[pre + "beta"] = beta
            out[pre + "running_mean_in"] = rm0
            out[pre + "running_var_in"] = rv0
            out[pre + "dy"] = nhwc(dy)
            out[pre + "y"] = nhwc(f32(y))
            out[pre + "dx"] = nhwc(f32(xd.grad))
            out[pre + "dgamma"] = f32(gd.grad)
            out[pre + "dbeta"] = f32(bd.grad)
            out[pre + "running_mean"] = f32(rm)
            out[pre + "running_var"] = f32(rv)
    return out


def pool_cases(g):
    out = {}
    x = rand(g, 2, 4, 9, 9)
    cases = [
        ("max_k3s2p1", lambda t: F.max_pool2d(t, 3, 2, 1)),
        ("max_k2s2p0", lambda t: F.max_pool2d(t, 2, 2, 0)),
        ("avg_k3s2p1", lambda t: F.avg_pool2d(t, 3, 2, 1)),  # count_include_pad=True
        ("avg_k2s1p1", lambda t: F.avg_pool2d(t, 2, 1, 1)),
        ("gap", lambda t: F.adaptive_avg_pool2d(t, 1).flatten(1)),
    ]
    for name, fn in cases:
        xd = x.double().requires_grad_()
        y = fn(xd)
        dy = rand(g, *y.shape)
        (y * dy.double()).sum().backward()
        pre = "pool/%s/" % name
        out[pre + "x"] = nhwc(x)
        out[pre + "dy"] = nhwc(dy)
        out[pre + "y"] = nhwc(f32(y))
        out[pre + "dx"] = nhwc(f32(xd.grad))
    return out


def main():
    g = torch.Generator().manual_seed(20240601)
    meta = {"producer": PRODUCER, "torch": torch.__version__, "layout": "activations NHWC (permuted from NCHW), weights OIHW"}
    os.makedirs(OUT, exist_ok=True)
    for fname, tensors in (("conv_conv2d.safetensors", conv_cases(g)),
                           ("conv_batchnorm.safetensors", bn_cases(g)),
                           ("conv_pool.safetensors", pool_cases(g))):
        path = os.path.join(OUT, fname)
        stwrite.write(path, tensors, meta)
        print("wrote %s (%d tensors, %d bytes)" % (path, len(tensors), os.path.getsize(path)))


if __name__ == "__main__":
    main()
