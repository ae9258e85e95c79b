#!/usr/bin/python3
"""Time one SimCLR-style training step in PyTorch: the workload of
`contrastive bench step`, with the same flags and JSON fields.

Two views of --batch random 3x(size)x(size) images go through the encoder
as one batch of 2*batch; a torchvision ResNet (fc removed; CIFAR stem = 3x3/1 conv
without max pool) gives the pooled feature, an MLP feature->2048->128 the
projection, NT-Xent at tau 0.5 (SimCLR, arXiv:2002.05709) the loss, then
backward and SGD (momentum 0.9, weight decay 1e-6). Runs in NCHW and in
channels_last (--layout both, the default, prints one JSON line per layout).

Like the Go benchmark it reports the forward and backward time per stage
("split": stem, layer1..layer4, avgpool, head+loss; backward times come
from gradient hooks at the stage boundaries) and the process's peak
resident set size (max_rss_mb, from getrusage: it includes the other
layout's run when both are timed, so time one layout per process to
compare memory).

Usage:
  /usr/bin/python3 bench/torch_step.py --arch resnet18 --stem cifar --batch 64 --steps 5 --json
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from export_torchvision import ARCHS, ScaledResNet  # noqa: E402


def ntxent(z1, z2, tau):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.t() / tau
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), -1e9)
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, targets)


def run(args, layout):
    torch.manual_seed(args.seed)
    block, layers = ARCHS[args.arch]
    base = max(1, int(round(64 * args.width)))
    enc = ScaledResNet(block, layers, base, args.stem, 3)
    feat = base * 8 * (4 if block is torchvision.models.resnet.Bottleneck else 1)
    head = nn.Sequential(nn.Linear(feat, 2048), nn.ReLU(), nn.Linear(2048, 128))
    model = nn.Sequential(enc, head)
    x = torch.rand(2 * args.batch, 3, args.size, args.size)
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-6)
    model.train()

    stages = [("stem", nn.Sequential(enc.conv1, enc.bn1, enc.relu, enc.maxpool)),
              ("layer1", enc.layer1), ("layer2", enc.layer2), ("layer3", enc.layer3), ("layer4", enc.layer4),
              ("avgpool", nn.Sequential(enc.avgpool, nn.Flatten(1)))]
    names = [n for n, _ in stages] + ["head+loss"]
    fwd = {n: 0.0 for n in names}
    bwd = {n: 0.0 for n in names}

    def step():
        # forward stage by stage; a hook on each stage output records when
        # its gradient arrives, which ends the backward of the stage after it
        arrive = {}
        h = x
        for i, (name, mod) in enumerate(stages):
            t0 = time.perf_counter()
            h = mod(h)
            fwd[name] += time.perf_counter() - t0
            h.register_hook(lambda g, i=i: arrive.__setitem__(i, time.perf_counter()))
        t0 = time.perf_counter()
        z = head(h)
        loss = ntxent(z[: args.batch], z[args.batch:], 0.5)
        fwd["head+loss"] += time.perf_counter() - t0
        opt.zero_grad(set_to_none=False)
        t0 = time.perf_counter()
        loss.backward()
        t1 = time.perf_counter()
        last = len(stages) - 1
        bwd["head+loss"] += arrive[last] - t0
        for i in range(last, 0, -1):
            bwd[stages[i][0]] += arrive[i - 1] - arrive[i]
        bwd[stages[0][0]] += t1 - arrive[0]
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    for n in names:
        fwd[n] = bwd[n] = 0.0
    times, losses = [], []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        losses.append(step())
        times.append(time.perf_counter() - t0)
    mean = sum(times) / len(times)
    return {
        "arch": args.arch, "stem": args.stem, "width": args.width, "batch": args.batch, "steps": args.steps,
        "threads": torch.get_num_threads(), "impl": "torch " + torch.__version__, "layout": layout,
        "images_per_sec": args.batch / mean, "encoder_images_per_sec": 2 * args.batch / mean,
        "step_ms": mean * 1e3, "step_ms_min": min(times) * 1e3, "loss": losses,
        "forward_ms": sum(fwd.values()) * 1e3 / args.steps, "backward_ms": sum(bwd.values()) * 1e3 / args.steps,
        "split": [{"stage": n, "forward_ms": fwd[n] * 1e3 / args.steps, "backward_ms": bwd[n] * 1e3 / args.steps}
                  for n in names],
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="resnet18", choices=sorted(ARCHS))
    p.add_argument("--stem", default="cifar", choices=["imagenet", "cifar"])
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="0: os.cpu_count()")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layout", default="both", choices=["both", "nchw", "channels_last"])
    p.add_argument("--json", action="store_true", help="one JSON object per layout")
    args = p.parse_args()
    torch.set_num_threads(args.threads or os.cpu_count())
    layouts = ["nchw", "channels_last"] if args.layout == "both" else [args.layout]
    for layout in layouts:
        r = run(args, layout)
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{'stage':10s} {'fwd ms':>10s} {'bwd ms':>10s}")
            for sp in r["split"]:
                print(f"{sp['stage']:10s} {sp['forward_ms']:10.1f} {sp['backward_ms']:10.1f}")
            print(f"torch {layout}: {r['images_per_sec']:.1f} images/s, step {r['step_ms']:.1f} ms "
                  f"(min {r['step_ms_min']:.1f}), {r['threads']} threads, max RSS {r['max_rss_mb']:.0f} MB, loss {r['loss']}")


if __name__ == "__main__":
    main()
