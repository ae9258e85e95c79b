#!/bin/sh
# Runs issue 21's performance measurements, each Go figure next to its
# PyTorch counterpart in the same run, on THREADS threads (default 1), and
# writes one JSON line per measurement to OUT (default runs/perf_pairs.jsonl):
#
#   SGEMM 2048³; inference (bench embed / torch_embed.py) for ResNet-50 at
#   224 px and ResNet-18 (CIFAR stem) at 32 px; the SimCLR step at 224 px
#   (bench step / torch_step.py) for ResNet-50 and ResNet-18 (ImageNet
#   stem); the multi-crop step (2x32,6x16 against 2x32, SwAV's CIFAR
#   crops, width 0.25) three times alternated.
#
# Usage (from the repository root; takes about 15 minutes at 1 thread):
#   THREADS=1 nice -n 5 sh bench/perf_pairs.sh
set -eu
THREADS=${THREADS:-1}
OUT=${OUT:-runs/perf_pairs.jsonl}
BIN=${BIN:-./contrastive}
PY=${PY:-/usr/bin/python3}
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/contrastive
export GOMAXPROCS="$THREADS" OMP_NUM_THREADS="$THREADS"
mkdir -p "$(dirname "$OUT")"
: >"$OUT"
run() { echo "+ $*" >&2; "$@" | tee -a "$OUT"; }
run "$BIN" bench gemm --size 2048 --json
run "$BIN" bench embed --arch resnet50 --stem imagenet --size 224 --batch 16 --batches 3 --unfolded --json
run "$PY" bench/torch_embed.py --arch resnet50 --stem imagenet --size 224 --batch 16 --batches 3 --threads "$THREADS" --json
run "$BIN" bench embed --arch resnet18 --stem cifar --size 32 --batch 256 --batches 3 --unfolded --json
run "$PY" bench/torch_embed.py --arch resnet18 --stem cifar --size 32 --batch 256 --batches 3 --threads "$THREADS" --json
for arch in resnet50 resnet18; do
	run "$BIN" bench step --arch $arch --stem imagenet --size 224 --batch 16 --steps 2 --json
	for layout in nchw channels_last; do
		run "$PY" bench/torch_step.py --arch $arch --stem imagenet --size 224 --batch 16 --steps 2 --threads "$THREADS" --layout $layout --json
	done
done
for i in 1 2 3; do
	for crops in 2x32 2x32,6x16; do
		run "$BIN" bench step --width 0.25 --batch 128 --steps 5 --crops $crops --json
	done
done
