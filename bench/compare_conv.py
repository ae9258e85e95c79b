#!/usr/bin/python3
"""Print per-shape ratios between `contrastive bench conv --json` and
bench/torch_conv.py outputs.

    go run ./cmd/contrastive bench conv --json > /tmp/go.json
    /usr/bin/python3 bench/torch_conv.py > /tmp/torch.json
    python3 bench/compare_conv.py /tmp/go.json /tmp/torch.json [--key ms|ms_min|cpu_ms]

Each input holds one JSON report per line; several runs of the same
layout are combined by taking each shape's fastest time. The ratio is
torch time / Go time (above 1: Go is faster).
"""
import argparse
import json


def load(path, key):
    best = {}
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        rep = json.loads(line)
        layout = rep.get("layout", "?")
        for s in rep["shapes"]:
            k = (layout, s["name"])
            best[k] = min(best.get(k, float("inf")), s[key])
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("go")
    ap.add_argument("torch")
    ap.add_argument("--key", default="ms_min", choices=["ms", "ms_min", "cpu_ms"])
    args = ap.parse_args()
    g = load(args.go, args.key)
    t = load(args.torch, args.key)
    names = [n for (_, n) in g]
    layouts = sorted({lay for (lay, _) in t})
    print("%-22s %9s " % ("shape", "go " + args.key) + " ".join("%14s %6s" % (lay + " ms", "ratio") for lay in layouts))
    for n in dict.fromkeys(names):
        gm = g[("nhwc", n)]
        row = "%-22s %9.2f " % (n, gm)
        for lay in layouts:
            tm = t.get((lay, n))
            row += " %14.2f %6.2f" % (tm, tm / gm) if tm else " %14s %6s" % ("-", "-")
        print(row)


if __name__ == "__main__":
    main()
