"""Write autograd/testdata/autograd_ops.safetensors: PyTorch references for
the last-axis ops of package autograd (softmax, log_softmax, cross_entropy,
F.normalize) forward and backward.

Inputs are float32 (fixed seed); references are computed in float64 from
those same float32 values and stored as float32, so the Go test compares
against the exact answer rounded once.

Run from the repository root:

    /usr/bin/python3 tools/gen_autograd_fixtures.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "autograd", "testdata", "autograd_ops.safetensors")


def f32(t):
    return t.detach().to(torch.float32)


def main():
    g = torch.Generator().manual_seed(20240611)
    out = {}

    def randn(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g) * scale).to(torch.float32)

    # softmax / log_softmax over the last axis of a 3-D input; one row is
    # shifted by +100 and one scaled by 30 to exercise the max shift.
    for name, fn in (("softmax", lambda x: torch.softmax(x, -1)), ("log_softmax", lambda x: torch.log_softmax(x, -1))):
        x = randn(2, 4, 9, scale=2.0)
        x[0, 1] += 100.0
        x[1, 2] *= 30.0
        gy = randn(2, 4, 9)
        x64 = x.double().requires_grad_()
        y = fn(x64)
        y.backward(gy.double())
        out[name + "/x"] = x
        out[name + "/g"] = gy
        out[name + "/y"] = f32(y)
        out[name + "/dx"] = f32(x64.grad)

    # cross_entropy (mean) on ordinary and large logits.
    for name, scale in (("cross_entropy", 1.5), ("cross_entropy_large", 60.0)):
        logits = randn(6, 11, scale=scale)
        targets = torch.randint(0, 11, (6,), generator=g)
        l64 = logits.double().requires_grad_()
        loss = F.cross_entropy(l64, targets)
        loss.backward()
        out[name + "/logits"] = logits
        out[name + "/targets"] = targets.to(torch.int64)
        out[name + "/loss"] = f32(loss.reshape(1))
        out[name + "/dlogits"] = f32(l64.grad)

    # F.normalize(dim=-1) with eps = 1e-3; row 2 has a norm below eps
    # (clamped branch).
    x = randn(6, 5)
    x[2] *= 1e-4
    gy = randn(6, 5)
    x64 = x.double().requires_grad_()
    y = F.normalize(x64, dim=-1, eps=1e-3)
    y.backward(gy.double())
    out["l2normalize/x"] = x
    out["l2normalize/g"] = gy
    out["l2normalize/eps"] = torch.tensor([1e-3], dtype=torch.float32)
    out["l2normalize/y"] = f32(y)
    out["l2normalize/dx"] = f32(x64.grad)

    stwrite.write(OUT, out, {"producer": "tools/gen_autograd_fixtures.py", "torch": torch.__version__})
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
