#!/usr/bin/python3
"""Write loss/testdata/nce.safetensors: the memory-bank losses of InstDisc
(arXiv:1805.01978) and PIRL (arXiv:1912.01991) computed directly in PyTorch,
in float64 from float32 inputs, with their gradients with respect to v.

For every case: unit embeddings v [B, D], the bank rows of the batch's own
samples pos [B, D] (correlated with v), m noise rows [m, D] shared by the
batch, a bank [N, D] for the whole-bank softmax, and
  - log Z = log(N * mean exp(s / tau)) over the B(1+m) scores, as
    lemniscate.pytorch's NCEAverage sets Z on its first batch;
  - the NCE loss written as lemniscate.pytorch's NCECriterion (eps = 0):
    P = exp(s / tau) / Z, Pn = 1/N,
    L = -(1/B) sum_b [log(P_pos / (P_pos + m Pn)) + sum_k log(m Pn / (P_k + m Pn))];
  - the sampled softmax: cross-entropy over [s_pos, s_noise] / tau, target 0;
  - the softmax over the whole bank: cross-entropy over v bank^T / tau,
    targets the batch's bank indices;
  - the proximal term lambda/B sum_b ||v_b - pos_b||^2.

Usage: /usr/bin/python3 tools/gen_nce_fixtures.py
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402

# (B, m, D, N, tau, lambda); N is the data size of the NCE noise
# distribution; the whole-bank softmax uses a bank of min(N, 64) rows.
CASES = [(1, 1, 4, 10, 0.5, 1.0), (4, 16, 8, 100, 0.07, 30.0), (7, 33, 16, 1000, 0.1, 10.0),
         (16, 64, 32, 50000, 0.07, 30.0)]

gen = torch.Generator().manual_seed(6)


def unit(*shape):
    return F.normalize(torch.randn(*shape, generator=gen), dim=1)


def nce(v, pos, noise, log_z, n):
    m = noise.shape[0]
    z = math.exp(log_z)
    p_pos = torch.exp((v * pos).sum(1) / tau) / z
    p_neg = torch.exp(v @ noise.t() / tau) / z
    pn = 1.0 / n
    ln_pmt = torch.log(p_pos / (p_pos + m * pn))
    ln_pon = torch.log((m * pn) / (p_neg + m * pn))
    return -(ln_pmt.sum() + ln_pon.sum()) / v.shape[0]


out = {}
for b, m, d, n, tau, lam in CASES:
    v = unit(b, d)
    pos = F.normalize(v + 0.7 * torch.randn(b, d, generator=gen), dim=1)
    noise = unit(m, d)
    nb = min(n, 64)
    bank = unit(nb, d)
    idx = torch.randperm(nb, generator=gen)[:b]
    bank[idx] = pos  # the batch's own rows hold its positives

    vd, posd, noised, bankd = v.double(), pos.double(), noise.double(), bank.double()
    scores = torch.cat([(vd * posd).sum(1), (vd @ noised.t()).reshape(-1)]) / tau
    log_z = math.log(n) + torch.logsumexp(scores, 0).item() - math.log(scores.numel())

    key = f"b{b}_m{m}_d{d}"
    results = {}
    for name, fn in [
        ("nce", lambda x: nce(x, posd, noised, log_z, n)),
        ("softmax", lambda x: F.cross_entropy(torch.cat([(x * posd).sum(1, keepdim=True), x @ noised.t()], 1) / tau,
                                              torch.zeros(b, dtype=torch.long))),
        ("full", lambda x: F.cross_entropy(x @ bankd.t() / tau, idx)),
        ("proximal", lambda x: lam * ((x - posd) ** 2).sum() / b),
    ]:
        x = vd.clone().requires_grad_()
        loss = fn(x)
        loss.backward()
        out[f"{key}.{name}"] = loss.detach().reshape(1)
        out[f"{key}.{name}_grad"] = x.grad
        results[name] = loss.item()
    out[key + ".v"] = v
    out[key + ".pos"] = pos
    out[key + ".noise"] = noise
    out[key + ".bank"] = bank
    out[key + ".idx"] = idx.long()
    out[key + ".params"] = torch.tensor([tau, n, lam], dtype=torch.float64)
    out[key + ".log_z"] = torch.tensor([log_z], dtype=torch.float64)
    print(f"{key} tau={tau} N={n}: log Z {log_z:.4f}, " + ", ".join(f"{k} {x:.6f}" for k, x in results.items()))
os.makedirs("loss/testdata", exist_ok=True)
stwrite.write("loss/testdata/nce.safetensors", out,
              {"producer": "tools/gen_nce_fixtures.py", "cases": ",".join(f"b{b}_m{m}_d{d}" for b, m, d, *_ in CASES),
               "torch": torch.__version__})
print("wrote loss/testdata/nce.safetensors")
