#!/usr/bin/python3
"""Write loss/testdata/ntxent.safetensors: random view embeddings z1, z2
[N, D], a temperature, and PyTorch's NT-Xent loss with its gradients with
respect to z1 and z2, computed in float64 from the float32 inputs.

The reference follows SimCLR (arXiv:2002.05709) Eq. 1: cosine similarities of
the 2N normalised rows, self-similarities removed, cross-entropy towards the
other view, averaged over the 2N rows.

Usage: /usr/bin/python3 tools/gen_loss_fixtures.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402

CASES = [(1, 4, 0.5), (2, 3, 1.0), (4, 8, 0.5), (7, 16, 0.1), (16, 32, 0.07), (17, 5, 0.2)]


def ntxent(z1, z2, tau):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.t() / tau
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(logits, targets)


gen = torch.Generator().manual_seed(3)
out = {}
for n, d, tau in CASES:
    z1 = torch.randn(n, d, generator=gen)
    z2 = z1 * 0.5 + torch.randn(n, d, generator=gen)  # correlated views
    a = z1.double().requires_grad_()
    b = z2.double().requires_grad_()
    loss = ntxent(a, b, tau)
    loss.backward()
    key = f"n{n}_d{d}"
    out[key + ".z1"] = z1
    out[key + ".z2"] = z2
    out[key + ".tau"] = torch.tensor([tau], dtype=torch.float64)
    out[key + ".loss"] = loss.detach().reshape(1)
    out[key + ".grad_z1"] = a.grad
    out[key + ".grad_z2"] = b.grad
    print(f"{key} tau={tau}: loss {loss.item():.6f}")
os.makedirs("loss/testdata", exist_ok=True)
stwrite.write("loss/testdata/ntxent.safetensors", out,
              {"producer": "tools/gen_loss_fixtures.py", "cases": ",".join(f"n{n}_d{d}" for n, d, _ in CASES),
               "torch": torch.__version__})
print("wrote loss/testdata/ntxent.safetensors")
