#!/usr/bin/python3
"""Check a `contrastive export --format torchvision` file against torchvision.

Loads FILE into torchvision.models.resnetXX after `model.fc = nn.Identity()`
with load_state_dict(strict=True) and runs it in eval mode on the random
NCHW batch of the --reference file that `contrastive export --reference`
wrote, comparing with the Go features stored there (max |torch - go| /
max |go| must be ≤ 1e-5).

The architecture, stem and width come from the file's metadata. Width 1
uses torchvision.models.resnetXX itself (with conv1 and maxpool swapped for
the CIFAR stem: a 3x3/1 conv, no max pool); other widths use
tools/export_torchvision.py's ScaledResNet, a torchvision ResNet subclass
with the same module names and smaller channel counts.

  go run ./cmd/contrastive export --checkpoint RUN --format torchvision \
      --out /tmp/enc.safetensors --reference /tmp/ref.safetensors
  /usr/bin/python3 tools/check_torchvision.py /tmp/enc.safetensors /tmp/ref.safetensors

Runs with Debian's python3-torch / python3-torchvision only; never in CI.
"""
import os
import sys

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_torchvision import ARCHS, ScaledResNet, read_safetensors  # noqa: E402


def build(meta):
    arch, stem = meta["arch"], meta["stem"]
    width, in_ch = float(meta["width"]), int(meta["in_channels"])
    base = max(1, int(round(64 * width)))
    if base == 64:
        model = getattr(torchvision.models, arch)()
        if stem == "cifar":
            model.conv1 = nn.Conv2d(in_ch, 64, kernel_size=3, stride=1, padding=1, bias=False)
            model.maxpool = nn.Identity()
        elif in_ch != 3:
            model.conv1 = nn.Conv2d(in_ch, 64, kernel_size=7, stride=2, padding=3, bias=False)
        kind = f"torchvision.models.{arch}()"
    else:
        block, layers = ARCHS[arch]
        model = ScaledResNet(block, layers, base, stem, in_ch)
        kind = f"torchvision ResNet subclass ({arch}, base width {base})"
    model.fc = nn.Identity()
    return model, kind


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    weights, meta = read_safetensors(sys.argv[1])
    ref, _ = read_safetensors(sys.argv[2])
    model, kind = build(meta)
    model.load_state_dict(weights, strict=True)
    model.eval()
    with torch.no_grad():
        got = model(ref["input.nchw"])
    want = ref["features"]
    diff = (got - want).abs().max().item()
    scale = want.abs().max().item()
    rel = diff / max(scale, 1e-30)
    print(f"{sys.argv[1]}: {len(weights)} tensors loaded with strict=True into {kind} "
          f"(stem {meta['stem']}, {meta['in_channels']} input channels) after model.fc = nn.Identity(); "
          f"features {list(got.shape)} on {list(ref['input.nchw'].shape)} inputs: "
          f"max |torch - go| = {diff:.3g}, max |go| = {scale:.3g}, relative {rel:.3g} "
          f"(torch {torch.__version__}, torchvision {torchvision.__version__})")
    if rel > 1e-5:
        print("MISMATCH: relative difference above 1e-5", file=sys.stderr)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
