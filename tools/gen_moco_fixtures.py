#!/usr/bin/python3
"""Write loss/testdata/infonce.safetensors: random queries q [N, C], keys
k [N, C] and a queue [K, C], a temperature, and PyTorch's MoCo InfoNCE
loss with its gradients with respect to q, k and the queue, computed in
float64 from the float32 inputs.

The reference is MoCo's (arXiv:1911.05722) Algorithm 1 as moco/builder.py
computes it: l_pos = einsum('nc,nc->n'), l_neg = einsum('nc,ck->nk') with
the queue stored as [C, K] there (one key per row here), logits
cat([l_pos, l_neg]) / T, labels zeros, CrossEntropyLoss. Most cases use
L2-normalised inputs as MoCo does; the "raw" case does not.

Usage: /usr/bin/python3 tools/gen_moco_fixtures.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402

# (N, K, C, tau, normalised)
CASES = [(1, 1, 4, 0.07, True), (2, 5, 3, 0.2, True), (4, 16, 8, 0.07, True),
         (8, 32, 16, 0.2, True), (16, 64, 64, 0.07, True), (3, 7, 5, 0.5, False)]


def infonce(q, k, queue, tau):
    l_pos = torch.einsum("nc,nc->n", [q, k]).unsqueeze(-1)
    l_neg = torch.einsum("nc,ck->nk", [q, queue.t()])
    logits = torch.cat([l_pos, l_neg], dim=1) / tau
    labels = torch.zeros(logits.shape[0], dtype=torch.long)
    return F.cross_entropy(logits, labels)


gen = torch.Generator().manual_seed(11)
out = {}
keys = []
for n, kk, c, tau, norm in CASES:
    q = torch.randn(n, c, generator=gen)
    k = q * 0.3 + torch.randn(n, c, generator=gen)  # positives correlate
    queue = torch.randn(kk, c, generator=gen)
    if norm:
        q, k, queue = F.normalize(q, dim=1), F.normalize(k, dim=1), F.normalize(queue, dim=1)
    a = q.double().requires_grad_()
    b = k.double().requires_grad_()
    u = queue.double().requires_grad_()
    loss = infonce(a, b, u, tau)
    loss.backward()
    key = f"n{n}_k{kk}_c{c}" + ("" if norm else "_raw")
    keys.append(key)
    out[key + ".q"] = q
    out[key + ".k"] = k
    out[key + ".queue"] = queue
    out[key + ".tau"] = torch.tensor([tau], dtype=torch.float64)
    out[key + ".loss"] = loss.detach().reshape(1)
    out[key + ".grad_q"] = a.grad
    out[key + ".grad_k"] = b.grad
    out[key + ".grad_queue"] = u.grad
    print(f"{key} tau={tau}: loss {loss.item():.6f}")
os.makedirs("loss/testdata", exist_ok=True)
stwrite.write("loss/testdata/infonce.safetensors", out,
              {"producer": "tools/gen_moco_fixtures.py", "cases": ",".join(keys), "torch": torch.__version__})
print("wrote loss/testdata/infonce.safetensors")
