#!/usr/bin/python3
"""Write optim/testdata/optim.safetensors: a few steps of torch.optim.SGD,
torch.optim.AdamW and a LARS written with torch ops (the apex-LARC/solo-learn
rule that optim.LARS documents) on a weight [3,4] and a bias [4], with given
gradients and a learning rate that changes every step.

Usage: /usr/bin/python3 tools/gen_optim_fixtures.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402

STEPS = 5
gen = torch.Generator().manual_seed(7)
w0 = torch.randn(3, 4, generator=gen)
b0 = torch.randn(4, generator=gen)
gw = torch.randn(STEPS, 3, 4, generator=gen)
gb = torch.randn(STEPS, 4, generator=gen)
out = {"init.w": w0, "init.b": b0, "grad.w": gw, "grad.b": gb}


def lr_at(base, s):
    return base * (s + 1) / STEPS


def run(name, make, base_lr, exclude_bias_decay):
    w = w0.clone().requires_grad_()
    b = b0.clone().requires_grad_()
    opt = make(w, b)
    ws, bs, lrs = [], [], []
    for s in range(STEPS):
        lr = lr_at(base_lr, s)
        for g in opt.param_groups:
            g["lr"] = lr
        w.grad = gw[s].clone()
        b.grad = gb[s].clone()
        opt.step()
        ws.append(w.detach().clone())
        bs.append(b.detach().clone())
        lrs.append(lr)
    out[name + ".w"] = torch.stack(ws)
    out[name + ".b"] = torch.stack(bs)
    out[name + ".lr"] = torch.tensor(lrs, dtype=torch.float64)


def groups(w, b, wd):
    # bias excluded from weight decay, as optim.ExcludeBiasAndNorm does
    return [{"params": [w], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0}]


class LARS(torch.optim.Optimizer):
    """apex LARC (clip=False) + SGD, solo-learn's LARS; bias excluded."""

    def __init__(self, params, lr, momentum, weight_decay, eta, eps, nesterov):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      eta=eta, eps=eps, nesterov=nesterov, exclude=False))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                d = p.grad
                if not g["exclude"]:
                    pn, gn = torch.norm(p), torch.norm(p.grad)
                    if pn != 0 and gn != 0:
                        q = g["eta"] * pn / (gn + g["weight_decay"] * pn + g["eps"])
                        d = (d + g["weight_decay"] * p) * q
                st = self.state[p]
                if "buf" not in st:
                    st["buf"] = d.clone()
                else:
                    st["buf"].mul_(g["momentum"]).add_(d)
                buf = st["buf"]
                d = d + g["momentum"] * buf if g["nesterov"] else buf
                p.add_(d, alpha=-g["lr"])


run("sgd_plain", lambda w, b: torch.optim.SGD([w, b], lr=0.1), 0.1, False)
run("sgd_momentum", lambda w, b: torch.optim.SGD(groups(w, b, 0.01), lr=0.1, momentum=0.9), 0.1, True)
run("sgd_nesterov", lambda w, b: torch.optim.SGD([w, b], lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3), 0.05, False)
run("adamw", lambda w, b: torch.optim.AdamW(groups(w, b, 0.05), lr=0.01), 0.01, True)


def make_lars(w, b):
    opt = LARS([{"params": [w]}, {"params": [b], "exclude": True}], lr=0.5, momentum=0.9,
               weight_decay=1e-2, eta=0.02, eps=1e-8, nesterov=False)
    opt.param_groups[1]["exclude"] = True
    return opt


run("lars", make_lars, 0.5, True)
os.makedirs("optim/testdata", exist_ok=True)
stwrite.write("optim/testdata/optim.safetensors", out, {"producer": "tools/gen_optim_fixtures.py", "torch": torch.__version__})
print("wrote optim/testdata/optim.safetensors")
