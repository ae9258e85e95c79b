#!/usr/bin/python3
"""Export torchvision ResNets to safetensors and check Go-written ones.

Runs with Debian's python3-torch / python3-torchvision only (no safetensors
package): the format is written by tools/stwrite.py and read here by hand.

  export  build a torchvision ResNet (any arch, stem, input channels and
          width), randomise its weights *and* batch-norm statistics so that
          eval-mode batch norm is not the identity, drop fc, and save the
          state_dict plus an input batch ("input.nchw", NCHW) and the
          eval-mode pooled features ("features") in one file. The Go test
          models/resnet_torch_test.go loads it and compares.
  check   load a file written by Go (torchvision names plus "input.nchw" and
          "features"), load it into torchvision with strict=True, run eval
          mode on the stored input and compare with the Go features.
  state   write a torchvision ResNet's state_dict, fc included, as
          safetensors for `contrastive pretrain|embed|eval ... --init FILE`:
          a supervised model saved with torch.save(model.state_dict(), PTH)
          (--from PTH), or the architecture's random init.
  names   write the state_dict names and shapes (fc dropped) of
          resnet18/34/50 with the ImageNet stem to a text file.

Width: the base width is max(1, round(64*w)); the ResNet subclass below
only changes the channel counts and keeps every torchvision module name.

Examples:
  /usr/bin/python3 tools/export_torchvision.py export --arch resnet18 \
      --width 0.0625 --out models/testdata/resnet18_w0.0625_imagenet.safetensors
  /usr/bin/python3 tools/export_torchvision.py check --arch resnet18 \
      --width 0.0625 --file /tmp/go_resnet18.safetensors
"""
import argparse
import json
import struct
import sys
import os

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402

ARCHS = {
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet34": (BasicBlock, [3, 4, 6, 3]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
    "resnet101": (Bottleneck, [3, 4, 23, 3]),
    "resnet152": (Bottleneck, [3, 8, 36, 3]),
}


class ScaledResNet(ResNet):
    """torchvision's ResNet with a base width, a stem choice, any input
    channels and no fc; module names are torchvision's."""

    def __init__(self, block, layers, base=64, stem="imagenet", in_channels=3):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = base
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, base, kernel_size=7, stride=2, padding=3, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, base, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1) if stem == "imagenet" else nn.Identity()
        self.layer1 = self._make_layer(block, base, layers[0])
        self.layer2 = self._make_layer(block, base * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, base * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, base * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Identity()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def build(args):
    block, layers = ARCHS[args.arch]
    base = max(1, int(round(64 * args.width)))
    return ScaledResNet(block, layers, base, args.stem, args.in_channels)


def randomize(model, gen):
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))


def read_safetensors(path):
    with open(path, "rb") as f:
        b = f.read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    data = b[8 + n:]
    meta = header.pop("__metadata__", {})
    dt = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
    out = {}
    for name, h in header.items():
        lo, hi = h["data_offsets"]
        t = torch.frombuffer(bytearray(data[lo:hi]), dtype=dt[h["dtype"]]) if hi > lo else torch.empty(0, dtype=dt[h["dtype"]])
        out[name] = t.reshape(h["shape"])
    return out, meta


def cmd_export(args):
    gen = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    model = build(args)
    randomize(model, gen)
    model.eval()
    x = torch.randn(args.batch, args.in_channels, args.size, args.size, generator=gen)
    with torch.no_grad():
        feats = model(x)
    tensors = dict(model.state_dict())
    tensors["input.nchw"] = x
    tensors["features"] = feats
    meta = {"producer": "tools/export_torchvision.py", "arch": args.arch, "stem": args.stem,
            "width": repr(args.width), "in_channels": str(args.in_channels),
            "torch": torch.__version__, "torchvision": torchvision.__version__}
    stwrite.write(args.out, tensors, meta)
    n = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}: {n} parameters, features {list(feats.shape)}, |f|max {feats.abs().max():.4g}")


def cmd_check(args):
    tensors, meta = read_safetensors(args.file)
    x = tensors.pop("input.nchw")
    want = tensors.pop("features")
    model = build(args)
    model.load_state_dict(tensors, strict=True)
    model.eval()
    with torch.no_grad():
        got = model(x)
    rel = ((got - want).abs().max() / want.abs().max()).item()
    print(f"{args.file}: {len(tensors)} tensors loaded strictly; features {list(got.shape)}, "
          f"max |torch - go| / max |torch| = {rel:.3g}")
    if rel > 1e-4:
        print("MISMATCH", file=sys.stderr)
        sys.exit(1)


def cmd_state(args):
    torch.manual_seed(args.seed)
    model = getattr(torchvision.models, args.arch)(num_classes=args.num_classes)
    if args.from_pth:
        model.load_state_dict(torch.load(args.from_pth, map_location="cpu"), strict=True)
    meta = {"producer": "tools/export_torchvision.py state", "arch": args.arch, "stem": "imagenet",
            "width": "1", "in_channels": "3", "source": args.from_pth or "random init",
            "mean": "0.485,0.456,0.406", "std": "0.229,0.224,0.225"}
    stwrite.write(args.out, dict(model.state_dict()), meta)
    print(f"wrote {args.out}: {len(model.state_dict())} tensors of {args.arch} ({meta['source']})")


def cmd_names(args):
    lines = []
    for arch in ("resnet18", "resnet34", "resnet50"):
        m = getattr(torchvision.models, arch)()
        for k, v in m.state_dict().items():
            if not k.startswith("fc."):
                lines.append(f"{arch} {k} {list(v.shape)}".replace(" [", " ").replace("]", "").replace(", ", ","))
    with open(args.out, "w") as f:
        f.write("# producer: tools/export_torchvision.py names; arch name shape (comma-separated, empty for scalars)\n")
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}: {len(lines)} lines")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("export", "check"):
        s = sub.add_parser(name)
        s.add_argument("--arch", default="resnet18", choices=sorted(ARCHS))
        s.add_argument("--stem", default="imagenet", choices=["imagenet", "cifar"])
        s.add_argument("--in-channels", type=int, default=3)
        s.add_argument("--width", type=float, default=1.0)
    e = sub.choices["export"]
    e.add_argument("--batch", type=int, default=2)
    e.add_argument("--size", type=int, default=32)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--out", required=True)
    sub.choices["check"].add_argument("--file", required=True)
    st = sub.add_parser("state")
    st.add_argument("--arch", default="resnet18", choices=sorted(ARCHS))
    st.add_argument("--from", dest="from_pth", default="", help="a torch.save'd state_dict of the same architecture")
    st.add_argument("--num-classes", type=int, default=1000)
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--out", required=True)
    n = sub.add_parser("names")
    n.add_argument("--out", required=True)
    args = p.parse_args()
    {"export": cmd_export, "check": cmd_check, "state": cmd_state, "names": cmd_names}[args.cmd](args)


if __name__ == "__main__":
    main()
