#!/bin/sh
# Interleaved Conv3d benchmark: ROUNDS alternating runs of
# `contrastive bench conv3d --json` and bench/torch_conv3d.py (same
# shapes, batch, threads), then per shape the fastest repetition of each
# and the ratio torch/Go (above 1: Go is faster).
#
#   sh bench/compare_conv3d.sh [ROUNDS] [BIN]      (from the repository root)
#
# MINTIME (Go duration, 1s) and MINTIME_PY (seconds, 1.0) set the minimum
# timing per shape; THREADS (2) the threads of both. BASE=OTHER_BIN adds a
# baseline Go binary to every round (before/after columns: BASE ms and
# PyTorch/BASE). Besides the fastest repetition it prints the median
# process CPU time per repetition (cpu), which on a shared machine shows
# the work done rather than the wait for a core.
set -eu
ROUNDS=${1:-3}
BIN=${2:-./contrastive}
THREADS=${THREADS:-2}
GO=$(mktemp); PT=$(mktemp); BS=$(mktemp)
i=0
while [ "$i" -lt "$ROUNDS" ]; do
	if [ -n "${BASE:-}" ]; then
		"$BASE" bench conv3d --json --threads "$THREADS" --min-time "${MINTIME:-1s}" >>"$BS"
	fi
	"$BIN" bench conv3d --json --threads "$THREADS" --min-time "${MINTIME:-1s}" >>"$GO"
	OMP_NUM_THREADS=$THREADS /usr/bin/python3 bench/torch_conv3d.py --threads "$THREADS" --min-time "${MINTIME_PY:-1.0}" >>"$PT"
	i=$((i + 1))
done
/usr/bin/python3 - "$GO" "$PT" "$BS" <<'PY'
import json, sys
def load(p, key):
    best = {}
    for line in open(p):
        for s in json.loads(line)["shapes"]:
            best[s["name"]] = min(best.get(s["name"], 1e30), s[key])
    return best
g, t = load(sys.argv[1], "ms_min"), load(sys.argv[2], "ms_min")
gc, tc = load(sys.argv[1], "cpu_ms"), load(sys.argv[2], "cpu_ms")
b = load(sys.argv[3], "ms_min") if open(sys.argv[3]).read().strip() else None
if b is None:
    print("| shape | Go ms (min) | PyTorch ms (min) | PyTorch/Go | Go cpu ms | PyTorch cpu ms | PyTorch/Go (cpu) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n in g:
        print("| %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |" % (n, g[n], t[n], t[n] / g[n], gc[n], tc[n], tc[n] / gc[n]))
else:
    bc = load(sys.argv[3], "cpu_ms")
    print("| shape | BASE ms (min) | Go ms (min) | PyTorch ms (min) | PyTorch/BASE | PyTorch/Go | BASE cpu ms | Go cpu ms | PyTorch cpu ms | PyTorch/Go (cpu) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in g:
        print("| %s | %.1f | %.1f | %.1f | %.2f | %.2f | %.1f | %.1f | %.1f | %.2f |" % (n, b[n], g[n], t[n], t[n] / b[n], t[n] / g[n], bc[n], gc[n], tc[n], tc[n] / gc[n]))
PY
rm -f "$GO" "$PT" "$BS"
