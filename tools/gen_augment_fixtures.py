"""Write augment/testdata/*.safetensors: torchvision's output for fixed,
deterministic augmentation parameters, which augment's Go tests reproduce.

Run from the repository root with Debian's torch and torchvision:

    /usr/bin/python3 tools/gen_augment_fixtures.py

Every file holds the input images ("in/<name>", HWC float32 in [0, 1]) and
one HWC output per case ("out/<case>"). The metadata "cases" is a JSON list
of {name, op, input, ...parameters}; the Go test replays each case through
the package and compares with the output. Uses
torchvision.transforms.functional on float tensors (torchvision 0.14:
bilinear/bicubic resize is torch interpolate with align_corners=False and
antialias False unless a case sets it; bicubic outputs are clamped to
[0, 1] because the Go package keeps images in [0, 1]).
"""
import json
import os
import sys

import torch
import torchvision
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "augment", "testdata")
MODES = {"bilinear": InterpolationMode.BILINEAR, "bicubic": InterpolationMode.BICUBIC, "nearest": InterpolationMode.NEAREST}
CIFAR10_MEAN = [0.4914, 0.4822, 0.4465]
CIFAR10_STD = [0.2470, 0.2435, 0.2616]


def inputs():
    g = torch.Generator().manual_seed(20240601)
    imgs = {
        "a": torch.rand(3, 16, 16, generator=g),
        "b": torch.rand(3, 20, 24, generator=g),
        "g": torch.rand(1, 16, 16, generator=g),
    }
    # Pixels on the hue edge cases: gray, black, white, primaries, ties.
    special = [
        (0, 0, 0), (1, 1, 1), (0.3, 0.3, 0.3), (1, 0, 0), (0, 1, 0), (0, 0, 1),
        (1, 1, 0), (0, 1, 1), (1, 0, 1), (0.5, 0.5, 0.2), (0.2, 0.5, 0.5), (0.5, 0.2, 0.5),
        (0.9, 0.1, 0.9), (0.1, 0.9, 0.9), (0.6, 0.6, 0.61), (0.25, 0.75, 0.25),
    ]
    p = torch.rand(3, 4, 8, generator=g)
    for k, rgb in enumerate(special):
        p[:, k // 8, k % 8] = torch.tensor(rgb)
    imgs["p"] = p
    return imgs


def hwc(t):
    return t.permute(1, 2, 0).contiguous()


def run(case, img):
    op = case["op"]
    if op == "resized_crop":
        out = F.resized_crop(img, case["top"], case["left"], case["height"], case["width"],
                             [case["out_h"], case["out_w"]], MODES[case["mode"]], antialias=case["antialias"])
        return out.clamp(0, 1) if case["mode"] == "bicubic" else out
    if op == "center_crop":
        return F.center_crop(img, [case["out_h"], case["out_w"]])
    if op == "hflip":
        return F.hflip(img)
    if op == "rotate":
        return F.rotate(img, case["angle"], MODES[case["mode"]], fill=case["fill"])
    if op == "rot90":
        return torch.rot90(img, case["k"], dims=(1, 2))
    if op == "brightness":
        return F.adjust_brightness(img, case["factor"])
    if op == "contrast":
        return F.adjust_contrast(img, case["factor"])
    if op == "saturation":
        return F.adjust_saturation(img, case["factor"])
    if op == "hue":
        return F.adjust_hue(img, case["factor"])
    if op == "grayscale":
        return F.rgb_to_grayscale(img, case["channels"])
    if op == "solarize":
        return F.solarize(img, case["threshold"])
    if op == "normalize":
        return F.normalize(img, case["mean"], case["std"])
    if op == "blur":
        k, s = case["kernel"], case["sigma"]
        return F.gaussian_blur(img, [k, k], [s, s])
    if op == "jitter":
        # ColorJitter.forward for drawn parameters (fn_idx = order).
        fns = [lambda x: F.adjust_brightness(x, case["brightness"]),
               lambda x: F.adjust_contrast(x, case["contrast"]),
               lambda x: F.adjust_saturation(x, case["saturation"]),
               lambda x: F.adjust_hue(x, case["hue"])]
        for i in case["order"]:
            img = fns[i](img)
        return img
    raise ValueError(op)


def resize_cases():
    cases = []
    boxes = [("a", 2, 3, 10, 12, 8, 8), ("a", 1, 1, 7, 9, 16, 16), ("b", 0, 0, 20, 24, 12, 20),
             ("b", 3, 5, 13, 11, 31, 17), ("g", 0, 0, 16, 16, 5, 7), ("g", 4, 4, 8, 8, 16, 16),
             ("b", 0, 0, 20, 24, 20, 24), ("b", 2, 1, 17, 22, 7, 3)]
    for inp, top, left, h, w, oh, ow in boxes:
        for mode in ("bilinear", "bicubic"):
            for aa in (False, True):
                cases.append({"name": f"rc_{inp}_{top}_{left}_{h}x{w}_to_{oh}x{ow}_{mode}_{'aa' if aa else 'noaa'}",
                              "op": "resized_crop", "input": inp, "top": top, "left": left, "height": h,
                              "width": w, "out_h": oh, "out_w": ow, "mode": mode, "antialias": aa})
    return cases


def geometry_cases():
    cases = [{"name": f"hflip_{i}", "op": "hflip", "input": i} for i in ("a", "b", "g")]
    cases += [{"name": "center_crop_b_10x13", "op": "center_crop", "input": "b", "out_h": 10, "out_w": 13},
              {"name": "center_crop_a_9x16", "op": "center_crop", "input": "a", "out_h": 9, "out_w": 16}]
    rot = [("a", 30.0, "bilinear", [0.0, 0.0, 0.0]), ("a", -45.0, "nearest", [0.5, 0.2, 0.1]),
           ("b", 17.5, "bilinear", [0.5, 0.2, 0.1]), ("b", 90.0, "nearest", [0.0, 0.0, 0.0]),
           ("b", -120.0, "bilinear", [1.0, 1.0, 1.0]), ("g", 60.0, "bilinear", [0.3]),
           ("g", 10.0, "nearest", [0.7]), ("a", 180.0, "bilinear", [0.0, 0.0, 0.0])]
    for inp, angle, mode, fill in rot:
        cases.append({"name": f"rotate_{inp}_{angle:g}_{mode}", "op": "rotate", "input": inp,
                      "angle": angle, "mode": mode, "fill": fill})
    for inp, k in (("b", 1), ("b", 2), ("b", 3), ("g", 1), ("a", -1)):
        cases.append({"name": f"rot90_{inp}_{k}", "op": "rot90", "input": inp, "k": k})
    return cases


def color_cases():
    cases = []
    for op, inp, f in [("brightness", "a", 0.6), ("brightness", "a", 1.4), ("brightness", "g", 1.7),
                       ("contrast", "a", 0.5), ("contrast", "a", 1.6), ("contrast", "g", 1.3),
                       ("saturation", "a", 0.3), ("saturation", "a", 1.8), ("saturation", "p", 2.0),
                       ("hue", "a", -0.3), ("hue", "a", 0.1), ("hue", "a", 0.45), ("hue", "b", 0.25),
                       ("hue", "p", -0.5), ("hue", "p", 0.5), ("hue", "p", 0.17), ("hue", "p", 0.0)]:
        cases.append({"name": f"{op}_{inp}_{f:g}", "op": op, "input": inp, "factor": f})
    cases += [{"name": "gray1_a", "op": "grayscale", "input": "a", "channels": 1},
              {"name": "gray3_b", "op": "grayscale", "input": "b", "channels": 3},
              # torchvision returns 1 channel for a 1-channel input even when 3
              # are asked for; augment.ToGrayscale returns 3 (tested in Go).
              {"name": "gray1_g", "op": "grayscale", "input": "g", "channels": 1},
              {"name": "solarize_a", "op": "solarize", "input": "a", "threshold": 0.5},
              {"name": "solarize_g", "op": "solarize", "input": "g", "threshold": 0.3},
              {"name": "normalize_a", "op": "normalize", "input": "a", "mean": CIFAR10_MEAN, "std": CIFAR10_STD}]
    for inp, order, b, c, s, h in [("a", [2, 0, 3, 1], 1.2, 0.7, 1.5, -0.2), ("b", [3, 1, 0, 2], 0.8, 1.3, 0.4, 0.15),
                                   ("g", [1, 0, 2, 3], 1.1, 0.6, 1.0, 0.0), ("p", [0, 1, 2, 3], 1.5, 1.5, 1.5, 0.4)]:
        cases.append({"name": f"jitter_{inp}_{''.join(map(str, order))}", "op": "jitter", "input": inp,
                      "order": order, "brightness": b, "contrast": c, "saturation": s, "hue": h})
    return cases


def blur_cases():
    cases = []
    for inp, k, s in [("a", 3, 0.5), ("a", 5, 1.3), ("a", 15, 2.0), ("b", 9, 2.0), ("b", 7, 0.1),
                      ("b", 23 - 4, 1.7), ("g", 5, 0.8), ("p", 3, 1.0)]:
        cases.append({"name": f"blur_{inp}_k{k}_s{s:g}", "op": "blur", "input": inp, "kernel": k, "sigma": s})
    return cases


def write(name, cases, imgs):
    tensors = {f"in/{k}": hwc(v) for k, v in imgs.items()}
    for case in cases:
        out = run(case, imgs[case["input"]].clone())
        tensors[f"out/{case['name']}"] = hwc(out.float())
    meta = {"producer": "tools/gen_augment_fixtures.py", "torch": torch.__version__,
            "torchvision": torchvision.__version__, "cases": json.dumps(cases)}
    path = os.path.join(OUT, name)
    stwrite.write(path, tensors, meta)
    print(f"{path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    imgs = inputs()
    write("resize.safetensors", resize_cases(), imgs)
    write("geometry.safetensors", geometry_cases(), imgs)
    write("color.safetensors", color_cases(), imgs)
    write("blur.safetensors", blur_cases(), imgs)


if __name__ == "__main__":
    main()
