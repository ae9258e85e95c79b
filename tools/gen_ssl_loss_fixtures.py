#!/usr/bin/python3
"""Write loss/testdata/ssl.safetensors: inputs, losses and input gradients
(float64, from float32 inputs) of the losses of the methods after the
contrastive survey, each transcribed from its paper's released code:

  negcos   SimSiam D(p, z) (arXiv:2011.10566, Algorithm 1)
  byol     BYOL 2 - 2 cos(p, z) (arXiv:2006.07733, Eq. 2; byol_pytorch's loss_fn)
  barlow   Barlow Twins (arXiv:2103.03230; facebookresearch/barlowtwins main.py)
  vicreg   VICReg (arXiv:2105.04906; facebookresearch/vicreg main_vicreg.py)
  mocov3   MoCo v3 contrastive_loss with the 2*tau factor (arXiv:2104.02057; moco-v3 builder.py)
  dino     DINOLoss (arXiv:2104.14294; facebookresearch/dino main_dino.py)
  supcon   SupConLoss, base_temperature = temperature (arXiv:2004.11362; HobbitLong/SupContrast losses.py)
  ce       cross-entropy (the supervised baseline)

Usage: /usr/bin/python3 tools/gen_ssl_loss_fixtures.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402

gen = torch.Generator().manual_seed(18)
out = {}
cases = []


def pair(n, d):
    a = torch.randn(n, d, generator=gen)
    b = a * 0.6 + torch.randn(n, d, generator=gen)
    return a, b


def record(key, inputs, loss_fn, extra=None):
    """inputs: {name: float32 tensor}; gradients of every input are stored."""
    leaves = {k: v.double().requires_grad_() for k, v in inputs.items()}
    loss = loss_fn(**leaves)
    loss.backward()
    for k, v in inputs.items():
        out[f"{key}.{k}"] = v
        if leaves[k].grad is not None:  # None: the loss stops the gradient
            out[f"{key}.grad_{k}"] = leaves[k].grad
    for k, v in (extra or {}).items():
        out[f"{key}.{k}"] = v
    out[f"{key}.loss"] = loss.detach().reshape(1)
    cases.append(key)
    print(f"{key}: loss {loss.item():.6f}")


def negcos(p, z):
    return -F.cosine_similarity(p, z.detach(), dim=-1).mean()


def byol(p, z):
    p, z = F.normalize(p, dim=-1), F.normalize(z, dim=-1)
    return (2 - 2 * (p * z).sum(dim=-1)).mean()


def off_diagonal(x):
    n, m = x.shape
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def barlow(z1, z2, lambd):
    bn = lambda z: (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + 1e-5)
    c = bn(z1).T @ bn(z2) / z1.shape[0]
    on = torch.diagonal(c).add_(-1).pow_(2).sum()
    off = off_diagonal(c).pow_(2).sum()
    return on + lambd * off


def vicreg(x, y, sim=25.0, std=25.0, cov=1.0):
    n, d = x.shape
    repr_loss = F.mse_loss(x, y)
    x = x - x.mean(dim=0)
    y = y - y.mean(dim=0)
    std_x = torch.sqrt(x.var(dim=0) + 0.0001)
    std_y = torch.sqrt(y.var(dim=0) + 0.0001)
    std_loss = torch.mean(F.relu(1 - std_x)) / 2 + torch.mean(F.relu(1 - std_y)) / 2
    cov_x = (x.T @ x) / (n - 1)
    cov_y = (y.T @ y) / (n - 1)
    cov_loss = off_diagonal(cov_x).pow_(2).sum().div(d) + off_diagonal(cov_y).pow_(2).sum().div(d)
    return sim * repr_loss + std * std_loss + cov * cov_loss


def mocov3(q, k, T):
    q = F.normalize(q, dim=1)
    k = F.normalize(k, dim=1)
    logits = torch.einsum("nc,mc->nm", [q, k]) / T
    labels = torch.arange(logits.shape[0], dtype=torch.long)
    return F.cross_entropy(logits, labels) * (2 * T)


def dino(student, teacher, center, ncrops, tau_s, tau_t):
    student_out = (student / tau_s).chunk(ncrops)
    teacher_out = F.softmax((teacher.detach() - center) / tau_t, dim=-1).chunk(2)
    total, n_terms = 0, 0
    for iq, q in enumerate(teacher_out):
        for v in range(len(student_out)):
            if v == iq:
                continue
            loss = torch.sum(-q * F.log_softmax(student_out[v], dim=-1), dim=-1)
            total += loss.mean()
            n_terms += 1
    return total / n_terms


def supcon(features, labels, temperature):
    # HobbitLong/SupContrast SupConLoss, contrast_mode 'all'; features [bsz, n_views, dim]
    features = F.normalize(features, dim=-1)
    batch_size = features.shape[0]
    labels = labels.contiguous().view(-1, 1)
    mask = torch.eq(labels, labels.T).double()
    contrast_count = features.shape[1]
    contrast_feature = torch.cat(torch.unbind(features, dim=1), dim=0)
    anchor_feature, anchor_count = contrast_feature, contrast_count
    anchor_dot_contrast = torch.matmul(anchor_feature, contrast_feature.T) / temperature
    logits_max, _ = torch.max(anchor_dot_contrast, dim=1, keepdim=True)
    logits = anchor_dot_contrast - logits_max.detach()
    mask = mask.repeat(anchor_count, contrast_count)
    logits_mask = torch.scatter(torch.ones_like(mask), 1, torch.arange(batch_size * anchor_count).view(-1, 1), 0)
    mask = mask * logits_mask
    exp_logits = torch.exp(logits) * logits_mask
    log_prob = logits - torch.log(exp_logits.sum(1, keepdim=True))
    mean_log_prob_pos = (mask * log_prob).sum(1) / mask.sum(1)
    loss = -(temperature / temperature) * mean_log_prob_pos
    return loss.view(anchor_count, batch_size).mean()


for n, d in [(1, 4), (5, 8), (16, 32)]:
    p, z = pair(n, d)
    record(f"negcos_n{n}_d{d}", {"p": p, "z": z}, negcos)
    record(f"byol_n{n}_d{d}", {"p": p, "z": z}, byol)
for n, d, lam in [(2, 3, 0.5), (8, 16, 0.0051), (17, 32, 0.02)]:
    a, b = pair(n, d)
    record(f"barlow_n{n}_d{d}", {"z1": a, "z2": b}, lambda z1, z2: barlow(z1, z2, lam),
           {"lambda": torch.tensor([lam], dtype=torch.float64)})
for n, d, scale in [(2, 3, 1.0), (8, 16, 0.3), (17, 32, 2.0)]:
    a, b = pair(n, d)
    a, b = a * scale, b * scale  # scale moves std across the hinge at 1
    record(f"vicreg_n{n}_d{d}", {"z1": a, "z2": b}, lambda z1, z2: vicreg(z1, z2))
for n, d, T in [(1, 4, 0.2), (6, 8, 1.0), (16, 32, 0.2)]:
    q, k = pair(n, d)
    record(f"mocov3_n{n}_d{d}", {"q": q, "k": k}, lambda q, k: mocov3(q, k.detach(), T),
           {"tau": torch.tensor([T], dtype=torch.float64)})
for n, k, v, ts, tt in [(3, 8, 2, 0.1, 0.04), (4, 16, 4, 0.1, 0.07), (5, 32, 6, 0.2, 0.05)]:
    student = torch.randn(v * n, k, generator=gen)
    teacher = (student[: 2 * n] * 0.5 + torch.randn(2 * n, k, generator=gen))
    center = torch.randn(k, generator=gen) * 0.3
    record(f"dino_n{n}_k{k}_v{v}", {"s": student},
           lambda s: dino(s, teacher.double(), center.double(), v, ts, tt),
           {"teacher": teacher, "center": center, "tau": torch.tensor([ts, tt], dtype=torch.float64)})
for n, d, v, T in [(4, 8, 2, 0.1), (12, 16, 2, 0.07), (9, 8, 3, 0.5)]:
    f = torch.randn(v * n, d, generator=gen)
    labels = torch.randint(0, 3, (n,), generator=gen)
    record(f"supcon_n{n}_d{d}_v{v}", {"z": f},
           lambda z: supcon(z.view(v, n, d).transpose(0, 1), labels, T),
           {"labels": labels.to(torch.int64), "tau": torch.tensor([T], dtype=torch.float64)})
for n, c in [(1, 3), (7, 10)]:
    logits = torch.randn(n, c, generator=gen) * 2
    labels = torch.randint(0, c, (n,), generator=gen)
    record(f"ce_n{n}_c{c}", {"logits": logits}, lambda logits: F.cross_entropy(logits, labels),
           {"labels": labels.to(torch.int64)})

os.makedirs("loss/testdata", exist_ok=True)
stwrite.write("loss/testdata/ssl.safetensors", out,
              {"producer": "tools/gen_ssl_loss_fixtures.py", "cases": ",".join(cases), "torch": torch.__version__})
print("wrote loss/testdata/ssl.safetensors")
