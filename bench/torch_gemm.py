#!/usr/bin/python3
"""Time PyTorch SGEMM on the CPU: the baseline for `contrastive bench gemm`.

Usage: /usr/bin/python3 bench/torch_gemm.py [--size 2048] [-m M -n N -k K] [--trans-a] [--trans-b]
       [--threads N] [--repeats 5] [--coretype SkylakeX]

Prints one JSON object with the same fields as `contrastive bench gemm
--json`, one entry per PyTorch path:

    {"op": "sgemm", "m": 2048, "n": 2048, "k": 2048, "impl": "torch",
     "blas": "openblas(SkylakeX)", "threads": 2,
     "torch_mm": {"gflops": ..., "seconds": ...},   # torch.mm -> libblas.so.3
     "mkldnn":   {"gflops": ..., "seconds": ...}}   # nn.Linear on oneDNN

torch.mm runs on whatever libblas.so.3 Debian's python3-torch loads
(BLAS_INFO=generic): the "blas" field says which. With only libblas3
installed that is the Netlib reference BLAS (single-threaded triple loops,
~8 GFLOP/s), not a meaningful baseline. To time OpenBLAS without changing
the system's BLAS for everyone, unpack Debian's libopenblas0-pthread and
put its directory first on the library path:

    apt-get download libopenblas0-pthread && dpkg-deb -x libopenblas0-pthread_*.deb /tmp/openblas
    LD_LIBRARY_PATH=/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread \
        /usr/bin/python3 bench/torch_gemm.py --size 2048

On this AMD Zen CPU OpenBLAS's runtime detection would pick a Zen (AVX2)
kernel; OPENBLAS_CORETYPE=SkylakeX selects its AVX-512 kernel, the fair
comparison for the AVX-512 Go kernel, so the script sets it (--coretype,
overriding the environment's; --coretype "" keeps the environment's) before
torch loads OpenBLAS, for this benchmark only. It also sets
OPENBLAS_NUM_THREADS to --threads: OpenBLAS's pthread build ignores
torch.set_num_threads.

-m/-n/-k and --trans-a/--trans-b mirror `contrastive bench gemm`: torch.mm
then multiplies transposed views, which it passes to BLAS as transpose
flags. The oneDNN path converts an nn.Linear(k, n) with
torch.utils.mkldnn.to_mkldnn and feeds it an m×k mkldnn tensor (y = x·Wᵀ,
the same 2·m·n·k flops, whatever the --trans flags).

Each figure is the best of --repeats timed runs after a warm-up run.
"""

import argparse
import json
import os
import time


def best_seconds(fn, repeats):
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def loaded_blas():
    """Names the BLAS library mapped into this process."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower()}
    except OSError:
        return "unknown"
    for lib in sorted(libs):
        if "openblas" in lib:
            return "openblas"
    for lib in sorted(libs):
        if "libblas" in lib:
            return "reference(" + lib + ")"
    return "unknown"


def entry(seconds, flops):
    return {"gflops": round(flops / seconds / 1e9, 1), "seconds": seconds}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=2048, help="m = n = k (overridden by -m, -n, -k)")
    ap.add_argument("-m", type=int, default=0, help="rows of C")
    ap.add_argument("-n", type=int, default=0, help="columns of C")
    ap.add_argument("-k", type=int, default=0, help="inner dimension")
    ap.add_argument("--trans-a", action="store_true", help="A is stored transposed (k×m)")
    ap.add_argument("--trans-b", action="store_true", help="B is stored transposed (n×k)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--coretype", default="SkylakeX",
                    help='OPENBLAS_CORETYPE for this run ("" keeps the environment\'s)')
    args = ap.parse_args()

    # OpenBLAS reads these when it is loaded, i.e. when torch is imported.
    # Its pthread build ignores torch.set_num_threads.
    if args.coretype:
        os.environ["OPENBLAS_CORETYPE"] = args.coretype
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    global torch
    import torch
    import torch.utils.mkldnn  # noqa: F401

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    m, n, k = (args.m or args.size), (args.n or args.size), (args.k or args.size)
    flops = 2.0 * m * n * k
    a = torch.randn(k, m).t() if args.trans_a else torch.randn(m, k)
    b = torch.randn(n, k).t() if args.trans_b else torch.randn(k, n)
    c = torch.empty(m, n)
    mm = best_seconds(lambda: torch.mm(a, b, out=c), args.repeats)

    blas = loaded_blas()
    if blas == "openblas":
        blas += "(" + os.environ.get("OPENBLAS_CORETYPE", "auto") + ")"
    out = {
        "op": "sgemm", "m": m, "n": n, "k": k,
        "trans_a": args.trans_a, "trans_b": args.trans_b,
        "impl": "torch", "blas": blas,
        "threads": torch.get_num_threads(),
        "torch_mm": entry(mm, flops),
    }
    if torch.backends.mkldnn.is_available():
        with torch.no_grad():
            lin = torch.utils.mkldnn.to_mkldnn(torch.nn.Linear(k, n, bias=False))
            x = a.contiguous().to_mkldnn()
            dnn = best_seconds(lambda: lin(x), args.repeats)
        out["mkldnn"] = entry(dnn, flops)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
