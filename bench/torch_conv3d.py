#!/usr/bin/python3
"""Time PyTorch's Conv3d forward+backward on the shapes of `contrastive bench conv3d`.

    /usr/bin/python3 bench/torch_conv3d.py [--batch 2] [--min-time 1.0] [--threads N]

Prints one JSON line with the fields of `contrastive bench conv3d --json`:
per shape the median milliseconds of one forward pass plus the backward
pass to the input and the weight (no bias, as in torchvision's video
ResNets), the fastest repetition and the median process CPU time. PyTorch
runs NCDHW (its default layout for Conv3d) on --threads threads with its
default CPU convolution. bench/compare_conv3d.sh interleaves this with the
Go benchmark and prints the ratios.
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

# name, C, T, H, W, OC, KT, K, ST, S, PT, P: keep in step with kernels.R3DConvShapes.
SHAPES = [
    ("stem", 3, 8, 56, 56, 64, 3, 7, 1, 2, 1, 3),
    ("layer1.conv", 64, 8, 28, 28, 64, 3, 3, 1, 1, 1, 1),
    ("layer2.0.conv1", 64, 8, 28, 28, 128, 3, 3, 2, 2, 1, 1),
    ("layer2.conv", 128, 4, 14, 14, 128, 3, 3, 1, 1, 1, 1),
    ("layer2.0.downsample", 64, 8, 28, 28, 128, 1, 1, 2, 2, 0, 0),
    ("layer3.0.conv1", 128, 4, 14, 14, 256, 3, 3, 2, 2, 1, 1),
    ("layer3.conv", 256, 2, 7, 7, 256, 3, 3, 1, 1, 1, 1),
    ("layer4.0.conv1", 256, 2, 7, 7, 512, 3, 3, 2, 2, 1, 1),
    ("layer4.conv", 512, 1, 4, 4, 512, 3, 3, 1, 1, 1, 1),
    ("r2plus1d.layer1.spatial", 64, 8, 28, 28, 144, 1, 3, 1, 1, 0, 1),
    ("r2plus1d.layer1.temporal", 144, 8, 28, 28, 64, 3, 1, 1, 1, 1, 0),
]


def bench(batch, c, t, h, w, oc, kt, k, st, s, pt, p, min_time, min_reps):
    x = (torch.rand(batch, c, t, h, w) - 0.5).requires_grad_()
    wt = (torch.rand(oc, c, kt, k, k) - 0.5).requires_grad_()
    stride, pad = (st, s, s), (pt, p, p)
    y = F.conv3d(x, wt, None, stride, pad)
    dy = torch.rand(y.shape) - 0.5

    def step():
        x.grad = None
        wt.grad = None
        F.conv3d(x, wt, None, stride, pad).backward(dy)

    step()
    times, cpu = [], []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_time:
        c0, t0 = time.process_time(), time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    flops = 3 * 2.0 * y.numel() * c * kt * k * k
    med = statistics.median_low(times)
    return {"in": [batch, c, t, h, w], "out_channels": oc, "kernel": [kt, k, k], "stride": list(stride), "pad": list(pad),
            "gflops": flops / med / 1e9, "ms": med * 1e3, "ms_min": min(times) * 1e3,
            "cpu_ms": statistics.median_low(cpu) * 1e3, "reps": len(times)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    res = []
    for name, *dims in SHAPES:
        r = bench(args.batch, *dims, args.min_time, args.reps)
        r["name"] = name
        res.append(r)
    impl = "torch-%s%s" % (torch.__version__, "-mkldnn" if torch.backends.mkldnn.is_available() else "")
    print(json.dumps({"impl": impl, "layout": "ncdhw", "threads": torch.get_num_threads(), "batch": args.batch, "shapes": res}), flush=True)


if __name__ == "__main__":
    main()
