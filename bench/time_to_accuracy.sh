#!/bin/sh
# Time to accuracy, contrastive against PyTorch (issue 21): the SimCLR
# CIFAR-10 recipe of configs/simclr-cifar10.yaml trained for MINUTES
# (default 20) of wall clock by each engine in turn, its learning-rate
# schedule sized to end at the budget, then the same weighted kNN (k 200,
# T 0.07, a 10,000-image training memory, the 10,000 test images).
#
# contrastive: a 30-step calibration run measures the engine's images/s on
# this machine; the real run's --max-steps is MINUTES·60·rate/256 (the
# cosine schedule ends there). PyTorch (bench/torch_pretrain.py) calibrates
# itself the same way over its first steps. Training time excludes data
# loading at start-up and the evaluation.
#
# Writes OUT/go.json (the pretrain summary: images_per_sec, knn.top1,
# steps) and OUT/torch.json, and prints both.
#
# Usage (from the repository root, on a quiet machine):
#   MINUTES=20 THREADS=2 sh bench/time_to_accuracy.sh
set -eu
MINUTES=${MINUTES:-20}
THREADS=${THREADS:-$(nproc)}
WORKERS=${WORKERS:-1}
DATA=${DATA:-../shared/datasets/cifar10-png.tgz}
OUT=${OUT:-runs/time-to-accuracy}
BIN=${BIN:-./contrastive}
PY=${PY:-/usr/bin/python3}
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/contrastive
export GOMAXPROCS="$THREADS" OMP_NUM_THREADS="$THREADS"
mkdir -p "$OUT"
rm -rf "$OUT/go-cal" "$OUT/go"

"$BIN" pretrain --config configs/simclr-cifar10.yaml --data "$DATA" --max-steps 30 --log-every 10 \
	--checkpoint-every 0 --out "$OUT/go-cal" --json >"$OUT/go-cal.log"
tail -n 1 "$OUT/go-cal.log" >"$OUT/go-cal.json" # the summary follows the progress lines
STEPS=$("$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(max(1, int(float(sys.argv[2]) * 60 * r["images_per_sec"] / 256)))' \
	"$OUT/go-cal.json" "$MINUTES")
echo "contrastive: calibrated at $(cat "$OUT/go-cal.json" | "$PY" -c 'import json, sys; print(round(json.load(sys.stdin)["images_per_sec"], 1))') images/s: $STEPS steps in $MINUTES minutes" >&2
"$BIN" pretrain --config configs/simclr-cifar10.yaml --data "$DATA" --test-data "$DATA:test" --max-steps "$STEPS" \
	--knn-every 0 --compare-random=false --out "$OUT/go" --json >"$OUT/go.log"
tail -n 1 "$OUT/go.log" >"$OUT/go.json"
"$PY" bench/torch_pretrain.py --data "$DATA" --minutes "$MINUTES" --threads "$THREADS" --workers "$WORKERS" >"$OUT/torch.json"
echo "contrastive: $(cat "$OUT/go.json")"
echo "pytorch:     $(cat "$OUT/torch.json")"
