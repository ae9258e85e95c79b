#!/usr/bin/python3
"""Time-to-accuracy in PyTorch: configs/simclr-cifar10.yaml's recipe for a
fixed wall-clock budget, then the same weighted kNN evaluation as
`contrastive pretrain`, for comparison with the Go run on the same machine
(bench/time_to_accuracy.sh runs both).

The recipe, as the Go engine runs it:
  encoder    torchvision ResNet-18, base width 16 (--width 0.25), CIFAR stem
             (3x3/1 conv, no max pool), no fc: a 128-d feature
  head       Linear(128, 512, bias=False), BatchNorm1d(512), ReLU, Linear(512, 128)
  loss       NT-Xent, temperature 0.5 (SimCLR, arXiv:2002.05709)
  views      2 per image: RandomResizedCrop(32, scale (0.08, 1)), horizontal
             flip 0.5, ColorJitter(0.4, 0.4, 0.4, 0.1) with p 0.8, grayscale
             0.2, no blur (the small-image variant), CIFAR-10 normalisation
  optimizer  SGD lr 0.3, momentum 0.9, weight decay 5e-4 on weights of 2+
             dimensions only (biases and norms excluded), batch 256 (last
             partial batch dropped, reshuffled each epoch)
  schedule   linear warm-up over 1 epoch (195 steps), then cosine to 0 at
             the last step; the last step is the one the budget allows: the
             first --calibrate steps after warm-up measure the rate and set
             total = budget / step time (or --total-steps)
  kNN        k 200, weights exp(cos / 0.07), memory: 10,000 training images
             spread evenly over the sorted training set (index i*N/10000),
             queries: the 10,000 test images, each centre-cropped (identity at
             32 px) and normalised; features of the eval-mode encoder

The data are CIFAR-10's PNG class folders (--data: a directory with
train/ and test/, or ../shared/datasets/cifar10-png.tgz, unpacked once to
--cache), read by a torch DataLoader with --workers processes.

Prints one JSON object: images_per_sec (training images, each in two views,
over the training time), knn_top1, knn_top5, steps, epochs, train_seconds,
eval_seconds.

Usage:
  OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_pretrain.py --minutes 1 --threads 1 --workers 0
"""
import argparse
import json
import math
import os
import sys
import tarfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from export_torchvision import ARCHS, ScaledResNet  # noqa: E402

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


def data_root(path, cache):
    """A directory holding train/ and test/ class folders."""
    if os.path.isdir(path):
        for sub in ("", "cifar10"):
            d = os.path.join(path, sub)
            if os.path.isdir(os.path.join(d, "train")):
                return d
        sys.exit(f"{path}: no train/ folder")
    d = os.path.join(cache, "cifar10")
    if not os.path.isdir(os.path.join(d, "test")):
        os.makedirs(cache, exist_ok=True)
        tmp = cache + ".partial"
        with tarfile.open(path) as tf:
            tf.extractall(tmp)
        os.replace(os.path.join(tmp, "cifar10"), d)
        os.rmdir(tmp)
    return d


class TwoViews:
    def __init__(self, t):
        self.t = t

    def __call__(self, x):
        return self.t(x), self.t(x)


def ntxent(z1, z2, tau):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.t() / tau
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, targets)


@torch.no_grad()
def features(enc, ds, batch, workers):
    enc.eval()
    out, labels = [], []
    for x, y in torch.utils.data.DataLoader(ds, batch_size=batch, num_workers=workers):
        out.append(F.normalize(enc(x), dim=1))
        labels.append(y)
    enc.train()
    return torch.cat(out), torch.cat(labels)


@torch.no_grad()
def knn(train_f, train_y, test_f, test_y, k, t, classes, chunk=256):
    """InstDisc's weighted kNN: each of the k most similar memory rows
    votes exp(sim / t) for its class."""
    top1 = top5 = 0
    for i in range(0, test_f.shape[0], chunk):
        sim = test_f[i:i + chunk] @ train_f.t()
        w, idx = sim.topk(k, dim=1)
        w = (w / t).exp()
        votes = torch.zeros(sim.shape[0], classes).scatter_add_(1, train_y[idx], w)
        pred = votes.topk(min(5, classes), dim=1).indices
        y = test_y[i:i + chunk]
        top1 += (pred[:, 0] == y).sum().item()
        top5 += (pred == y[:, None]).any(dim=1).sum().item()
    n = test_f.shape[0]
    return top1 / n, top5 / n


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "datasets", "cifar10-png.tgz"))
    p.add_argument("--cache", default=os.path.expanduser("~/.cache/contrastive-bench"))
    p.add_argument("--minutes", type=float, default=20, help="training budget (wall clock, the kNN evaluation after it)")
    p.add_argument("--total-steps", type=int, default=0, help="schedule length (0: from the rate measured in the budget)")
    p.add_argument("--calibrate", type=int, default=10, help="steps timed to estimate the rate")
    p.add_argument("--threads", type=int, default=0, help="0: os.cpu_count()")
    p.add_argument("--workers", type=int, default=1, help="DataLoader processes (0: load in the training process)")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--width", type=float, default=0.25)
    p.add_argument("--lr", type=float, default=0.3)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--warmup-epochs", type=float, default=1)
    p.add_argument("--knn-train-size", type=int, default=10000)
    p.add_argument("--knn-k", type=int, default=200)
    p.add_argument("--knn-temperature", type=float, default=0.07)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads or os.cpu_count())
    torch.manual_seed(args.seed)

    root = data_root(args.data, args.cache)
    norm = T.Normalize(CIFAR_MEAN, CIFAR_STD)
    aug = T.Compose([
        T.RandomResizedCrop(32, scale=(0.08, 1.0)),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.ToTensor(), norm])
    train_ds = torchvision.datasets.ImageFolder(os.path.join(root, "train"), transform=TwoViews(aug))
    loader = torch.utils.data.DataLoader(train_ds, batch_size=args.batch, shuffle=True, drop_last=True,
                                         num_workers=args.workers, persistent_workers=args.workers > 0)

    block, layers = ARCHS["resnet18"]
    base = max(1, int(round(64 * args.width)))
    enc = ScaledResNet(block, layers, base, "cifar", 3)
    feat = base * 8
    head = nn.Sequential(nn.Linear(feat, 512, bias=False), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 128))
    model = nn.Sequential(enc, head)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    decay = [q for q in model.parameters() if q.ndim > 1]
    no_decay = [q for q in model.parameters() if q.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": args.weight_decay},
                           {"params": no_decay, "weight_decay": 0}], lr=args.lr, momentum=0.9)
    per_epoch = len(train_ds) // args.batch
    warmup = int(round(args.warmup_epochs * per_epoch))
    total = args.total_steps

    def lr_at(step):
        if step < warmup:
            return args.lr * step / warmup
        if total and step >= total:
            return 0.0
        frac = (step - warmup) / max(1, (total or 10 ** 9) - warmup)
        return args.lr * (1 + math.cos(math.pi * frac)) / 2

    budget = args.minutes * 60
    step, images, losses = 0, 0, []
    t0 = time.perf_counter()
    cal_start = None
    done = False
    while not done:
        for (v1, v2), _ in loader:
            if args.channels_last:
                v1 = v1.contiguous(memory_format=torch.channels_last)
                v2 = v2.contiguous(memory_format=torch.channels_last)
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            z = model(torch.cat([v1, v2]))
            loss = ntxent(z[: v1.shape[0]], z[v1.shape[0]:], 0.5)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            images += v1.shape[0]
            losses.append(loss.item())
            now = time.perf_counter() - t0
            if not args.total_steps:
                if step == 1:
                    cal_start = (now, step)
                elif step == 1 + args.calibrate:
                    rate = (now - cal_start[0]) / (step - cal_start[1])
                    total = max(step + 1, int((budget - now) / rate) + step)
            if now >= budget or (total and step >= total):
                done = True
                break
    train_seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    plain = T.Compose([T.CenterCrop(32), T.ToTensor(), norm])
    train_eval = torchvision.datasets.ImageFolder(os.path.join(root, "train"), transform=plain)
    n = len(train_eval)
    m = min(args.knn_train_size, n) if args.knn_train_size > 0 else n
    memory = torch.utils.data.Subset(train_eval, [i * n // m for i in range(m)])
    test_ds = torchvision.datasets.ImageFolder(os.path.join(root, "test"), transform=plain)
    trf, trl = features(enc, memory, 256, args.workers)
    tef, tel = features(enc, test_ds, 256, args.workers)
    top1, top5 = knn(trf, trl, tef, tel, args.knn_k, args.knn_temperature, len(test_ds.classes))
    print(json.dumps({
        "impl": "torch " + torch.__version__, "threads": torch.get_num_threads(), "workers": args.workers,
        "minutes": args.minutes, "steps": step, "scheduled_steps": total, "epochs": step / per_epoch,
        "images_per_sec": images / train_seconds, "train_seconds": train_seconds,
        "final_loss": sum(losses[-10:]) / len(losses[-10:]), "knn_top1": top1, "knn_top5": top5,
        "eval_seconds": time.perf_counter() - t1,
    }))


if __name__ == "__main__":
    main()
