#!/usr/bin/python3
"""Time evaluation-mode forward passes in PyTorch: the workload of
`contrastive bench embed`, with the same flags and JSON fields.

A torchvision ResNet (fc removed; CIFAR stem = 3x3/1 conv without max pool)
in eval mode embeds --batch random images of --size px under
torch.inference_mode(), --batches timed passes after --warmup untimed ones,
in NCHW and in channels_last; the JSON line is the better layout's
(--layout both, the default), with the other's images/s beside it.
gflops_effective counts the convolutions' multiply-adds twice, as the Go
benchmark does (torchvision's ResNet-50 at 224 px: 8.18 GFLOP per image).

Usage:
  OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_embed.py --arch resnet50 --stem imagenet --size 224 --batch 16 --threads 1 --json
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from export_torchvision import ARCHS, ScaledResNet  # noqa: E402


def conv_flops(model, x):
    """2 x multiply-adds of every Conv2d for one image of x's size."""
    total = [0]

    def hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
        total[0] += 2 * out[0].numel() * k

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.inference_mode():
        model(x[:1])
    for h in hs:
        h.remove()
    return total[0]


def run(args, layout):
    torch.manual_seed(args.seed)
    block, layers = ARCHS[args.arch]
    base = max(1, int(round(64 * args.width)))
    model = ScaledResNet(block, layers, base, args.stem, 3).eval()
    x = torch.rand(args.batch, 3, args.size, args.size)
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    flops = conv_flops(model, x)
    times = []
    with torch.inference_mode():
        for i in range(args.warmup + args.batches):
            t0 = time.perf_counter()
            model(x)
            if i >= args.warmup:
                times.append(time.perf_counter() - t0)
    mean = sum(times) / len(times)
    ips = args.batch / mean
    return {
        "arch": args.arch, "stem": args.stem, "width": args.width, "size": args.size, "batch": args.batch,
        "batches": args.batches, "threads": torch.get_num_threads(), "impl": "torch " + torch.__version__,
        "layout": layout, "images_per_sec": ips, "batch_ms": mean * 1e3, "batch_ms_min": min(times) * 1e3,
        "gflop_per_image": flops / 1e9, "gflops_effective": flops / 1e9 * ips,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="resnet50", choices=sorted(ARCHS))
    p.add_argument("--stem", default="imagenet", choices=["imagenet", "cifar"])
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--batches", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="0: os.cpu_count()")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layout", default="both", choices=["both", "nchw", "channels_last"])
    p.add_argument("--json", action="store_true", help="one JSON object (the better layout)")
    args = p.parse_args()
    torch.set_num_threads(args.threads or os.cpu_count())
    layouts = ["nchw", "channels_last"] if args.layout == "both" else [args.layout]
    results = [run(args, layout) for layout in layouts]
    best = max(results, key=lambda r: r["images_per_sec"])
    best["per_layout"] = {r["layout"]: r["images_per_sec"] for r in results}
    if args.json:
        print(json.dumps(best))
    else:
        for r in results:
            print(f"torch {r['layout']}: {r['images_per_sec']:.2f} images/s, batch {r['batch_ms']:.1f} ms "
                  f"(min {r['batch_ms_min']:.1f}), {r['gflops_effective']:.1f} GFLOP/s effective, {r['threads']} threads")


if __name__ == "__main__":
    main()
