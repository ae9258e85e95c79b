#!/usr/bin/python3
"""Time PyTorch's conv forward+backward on the shapes of `contrastive bench conv`.

    /usr/bin/python3 bench/torch_conv.py [--batch 64] [--min-time 1.0] [--shapes a,b]
        [--threads N] [--layouts nchw,channels_last]

Prints one JSON line per memory format (NCHW, then channels_last), each
with the fields of `go run ./cmd/contrastive bench conv --json`: per shape
the median milliseconds of one forward pass plus the backward pass to both
the input and the weight (no bias, as in ResNet), and the achieved GFLOP/s
of those three convolutions; cpu_ms is the median process CPU time of one
repetition (it includes any time OpenMP threads spend spinning). PyTorch
runs on --threads (os.cpu_count()) threads with its default CPU
convolution (oneDNN/mkldnn when built with it).
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

# name, C, H, W, OC, K, stride, pad: keep in step with
# kernels.ResNet18CIFARConvShapes.
SHAPES = [
    ("conv1", 3, 32, 32, 64, 3, 1, 1),
    ("layer1.conv", 64, 32, 32, 64, 3, 1, 1),
    ("layer2.0.conv1", 64, 32, 32, 128, 3, 2, 1),
    ("layer2.conv", 128, 16, 16, 128, 3, 1, 1),
    ("layer2.0.downsample", 64, 32, 32, 128, 1, 2, 0),
    ("layer3.0.conv1", 128, 16, 16, 256, 3, 2, 1),
    ("layer3.conv", 256, 8, 8, 256, 3, 1, 1),
    ("layer3.0.downsample", 128, 16, 16, 256, 1, 2, 0),
    ("layer4.0.conv1", 256, 8, 8, 512, 3, 2, 1),
    ("layer4.conv", 512, 4, 4, 512, 3, 1, 1),
    ("layer4.0.downsample", 256, 8, 8, 512, 1, 2, 0),
]


def bench_shape(batch, c, h, w, oc, k, s, p, channels_last, min_time, min_reps):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = (torch.rand(batch, c, h, w) - 0.5).to(memory_format=fmt).requires_grad_()
    wt = (torch.rand(oc, c, k, k) - 0.5).to(memory_format=fmt).requires_grad_()
    y = F.conv2d(x, wt, None, s, p)
    dy = (torch.rand(y.shape) - 0.5).to(memory_format=fmt)

    def step():
        x.grad = None
        wt.grad = None
        out = F.conv2d(x, wt, None, s, p)
        out.backward(dy)

    step()  # warm-up
    times, cpu = [], []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_time:
        c0, t0 = time.process_time(), time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    oh, ow = y.shape[2], y.shape[3]
    flops = 3 * 2.0 * batch * oh * ow * oc * c * k * k
    med = statistics.median_low(times)
    return {
        "name": None, "in": [batch, c, h, w], "out_channels": oc, "kernel": k, "stride": s, "pad": p,
        "gflops": flops / med / 1e9, "ms": med * 1e3, "ms_min": min(times) * 1e3,
        "cpu_ms": statistics.median_low(cpu) * 1e3, "reps": len(times),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--shapes", default="")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--layouts", default="nchw,channels_last")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    want = set(filter(None, args.shapes.split(",")))
    shapes = [sh for sh in SHAPES if not want or sh[0] in want]
    impl = "torch-%s%s" % (torch.__version__, "-mkldnn" if torch.backends.mkldnn.is_available() else "")
    for layout in args.layouts.split(","):
        cl = {"nchw": False, "channels_last": True}[layout]
        res = []
        for name, *dims in shapes:
            r = bench_shape(args.batch, *dims, cl, args.min_time, args.reps)
            r["name"] = name
            res.append(r)
        print(json.dumps({"impl": impl, "layout": layout, "threads": torch.get_num_threads(),
                          "batch": args.batch, "shapes": res}), flush=True)


if __name__ == "__main__":
    main()
