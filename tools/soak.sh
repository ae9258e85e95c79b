#!/usr/bin/env bash
# Soak run: pretrain for DURATION seconds, SIGKILL the process every
# KILL_EVERY seconds and resume it, sampling the process from outside.
#
#   tools/soak.sh BINARY RUN_DIR [DURATION_S=7200] [KILL_EVERY_S=1200]
#
# Writes RUN_DIR/soak/: samples.csv (time, pid, rss_kb, threads, fds),
# segment-N.jsonl (metrics.jsonl as it stood when segment N was killed) and
# events.log; tools/soak_check.py then checks that every resume repeated the
# killed segment's losses exactly and that memory and descriptors stayed flat.
# Extra pretrain flags can be passed in SOAK_FLAGS.
set -euo pipefail
bin=$1 dir=$2 duration=${3:-7200} every=${4:-1200}
flags=${SOAK_FLAGS:---method moco --moco-momentum 0.99 --width 0.125 --batch-size 64 --epochs 1000 --checkpoint-every 300 --log-every 10 --workers 1}
mkdir -p "$dir/soak"
log=$dir/soak/events.log
echo "t,pid,rss_kb,threads,fds" > "$dir/soak/samples.csv"
start=$(date +%s) seg=0
while :; do
  now=$(date +%s); left=$(( start + duration - now ))
  (( left > 0 )) || break
  if (( seg == 0 )); then
    # shellcheck disable=SC2086
    "$bin" pretrain $flags --out "$dir" >"$dir/soak/segment-$seg.out" 2>&1 &
  else
    "$bin" pretrain --resume "$dir" >"$dir/soak/segment-$seg.out" 2>&1 &
  fi
  pid=$!
  echo "$(date +%s) start segment $seg pid $pid" >>"$log"
  seg_end=$(( $(date +%s) + (left < every ? left : every) ))
  while (( $(date +%s) < seg_end )) && kill -0 "$pid" 2>/dev/null; do
    if [[ -r /proc/$pid/status ]]; then
      rss=$(awk '/^VmRSS/{print $2}' /proc/$pid/status 2>/dev/null || echo 0)
      thr=$(awk '/^Threads/{print $2}' /proc/$pid/status 2>/dev/null || echo 0)
      fds=$(ls /proc/$pid/fd 2>/dev/null | wc -l)
      echo "$(( $(date +%s) - start )),$pid,${rss:-0},${thr:-0},$fds" >>"$dir/soak/samples.csv"
    fi
    sleep 15
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$(date +%s) killed segment $seg" >>"$log"
  cp "$dir/metrics.jsonl" "$dir/soak/segment-$seg.jsonl" 2>/dev/null || true
  seg=$((seg + 1))
done
echo "$(date +%s) done after $seg segments" >>"$log"
