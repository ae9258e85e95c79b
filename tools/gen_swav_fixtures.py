#!/usr/bin/python3
"""Write loss/testdata/swav.safetensors: SwAV's Sinkhorn-Knopp codes and
swapped-prediction loss (Caron et al., arXiv:2006.09882), computed in
float64 from float32 inputs by a transcription of the released
main_swav.py (single process: world_size = 1).

Cases "sk_*": scores [B, K] -> codes Q [B, K] (distributed_sinkhorn).
Cases "sw_*": embeddings z [V*B, d] (V crops of B images, crop-major),
unit prototypes C [K, d] and optionally a full feature queue [A, L, d]
(A = number of crops used for assignment). The script normalises z, takes
the scores z.C^T, the codes of crops 0..A-1 (with the queue prepended when
given) and the loss of main_swav.py's train loop; it stores the scores,
codes, loss and the gradients of the loss with respect to z and C.

Usage: /usr/bin/python3 tools/gen_swav_fixtures.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stwrite  # noqa: E402


@torch.no_grad()
def distributed_sinkhorn(out, epsilon, iters):
    # main_swav.py, with dist.all_reduce and world_size removed.
    Q = torch.exp(out / epsilon).t()  # Q is K-by-B
    B = Q.shape[1]
    K = Q.shape[0]
    sum_Q = torch.sum(Q)
    Q /= sum_Q
    for _ in range(iters):
        # each row (prototype) sums to 1/K
        sum_of_rows = torch.sum(Q, dim=1, keepdim=True)
        Q /= sum_of_rows
        Q /= K
        # each column (sample) sums to 1/B
        Q /= torch.sum(Q, dim=0, keepdim=True)
        Q /= B
    Q *= B  # the columns sum to 1: Q is an assignment
    return Q.t()


def swav_loss(z, C, bs, nmb_crops, crops_for_assign, queue, temperature, epsilon, iters):
    # model forward: embedding = normalize(head(x)), output = prototypes(embedding)
    embedding = F.normalize(z, dim=1, p=2)
    output = embedding @ C.t()
    loss = 0
    codes = []
    for i, crop_id in enumerate(crops_for_assign):
        with torch.no_grad():
            out = output[bs * crop_id: bs * (crop_id + 1)].detach()
            if queue is not None:  # a full queue: its last row is non-zero
                out = torch.cat((torch.mm(queue[i], C.t()), out))
            q = distributed_sinkhorn(out, epsilon, iters)[-bs:]
        codes.append(q)
        subloss = 0
        for v in [v for v in range(nmb_crops) if v != crop_id]:
            x = output[bs * v: bs * (v + 1)] / temperature
            subloss -= torch.mean(torch.sum(q * F.log_softmax(x, dim=1), dim=1))
        loss += subloss / (nmb_crops - 1)
    loss /= len(crops_for_assign)
    return loss, output, codes


gen = torch.Generator().manual_seed(8)
out = {}

SK = [(8, 5, 0.05, 3), (16, 30, 0.05, 3), (5, 12, 0.1, 10), (32, 10, 0.05, 3), (3, 7, 0.05, 1)]
for b, k, eps, iters in SK:
    z = F.normalize(torch.randn(b, 6, generator=gen), dim=1)
    c = F.normalize(torch.randn(k, 6, generator=gen), dim=1)
    scores = (z @ c.t()).float()
    q = distributed_sinkhorn(scores.double(), eps, iters)
    key = f"sk_b{b}_k{k}"
    out[key + ".scores"] = scores
    out[key + ".eps"] = torch.tensor([eps], dtype=torch.float64)
    out[key + ".iters"] = torch.tensor([iters], dtype=torch.int64)
    out[key + ".q"] = q
    print(f"{key}: eps {eps} iters {iters}, sample sums {q.sum(1).min().item():.6f}..{q.sum(1).max().item():.6f}")

# (V crops, B, d, K, A crops for assignment, queue length L)
SW = [(2, 4, 8, 6, 2, 0), (4, 3, 5, 7, 2, 0), (5, 6, 16, 20, 2, 12), (3, 2, 4, 3, 1, 4)]
for v, b, d, k, a, ql in SW:
    z = torch.randn(v * b, d, generator=gen)
    # correlated crops, so that the codes of one crop predict another
    z = z + 2 * torch.randn(b, d, generator=gen).repeat(v, 1)
    c = F.normalize(torch.randn(k, d, generator=gen), dim=1)
    queue = None
    if ql > 0:
        queue = F.normalize(torch.randn(a, ql, d, generator=gen), dim=2)
    zz = z.double().requires_grad_()
    cc = c.double().requires_grad_()
    loss, scores, codes = swav_loss(zz, cc, b, v, list(range(a)), None if queue is None else queue.double(),
                                    0.1, 0.05, 3)
    loss.backward()
    key = f"sw_v{v}_b{b}_k{k}_q{ql}"
    out[key + ".z"] = z
    out[key + ".c"] = c
    if queue is not None:
        out[key + ".queue"] = queue
    out[key + ".crops"] = torch.tensor([v, a], dtype=torch.int64)
    out[key + ".scores"] = scores.detach()
    for i, q in enumerate(codes):
        out[key + f".codes{i}"] = q
    out[key + ".loss"] = loss.detach().reshape(1)
    out[key + ".grad_z"] = zz.grad
    out[key + ".grad_c"] = cc.grad
    print(f"{key}: loss {loss.item():.6f}")

os.makedirs("loss/testdata", exist_ok=True)
stwrite.write("loss/testdata/swav.safetensors", out, {
    "producer": "tools/gen_swav_fixtures.py",
    "sinkhorn_cases": ",".join(f"sk_b{b}_k{k}" for b, k, _, _ in SK),
    "swapped_cases": ",".join(f"sw_v{v}_b{b}_k{k}_q{ql}" for v, b, _, k, _, ql in SW),
    "temperature": "0.1", "epsilon": "0.05", "iterations": "3",
    "torch": torch.__version__})
print("wrote loss/testdata/swav.safetensors")
