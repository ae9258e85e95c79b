#!/usr/bin/env python3
"""Checks a soak run made by tools/soak.sh (standard library only).

    python3 tools/soak_check.py RUN_DIR

For every resume: the steps that the killed segment logged after the
checkpoint it was resumed from are logged again by the next segment, and
their losses must be identical. Also prints the resident memory, heap,
goroutines and open files over the run (from metrics.jsonl and from the
outside samples) so that leaks show as a slope."""
import csv, json, os, sys

d = sys.argv[1]
soak = os.path.join(d, "soak")
segs = sorted((f for f in os.listdir(soak) if f.startswith("segment-") and f.endswith(".jsonl")),
              key=lambda f: int(f[8:-6]))
logs = []
for f in segs:
    with open(os.path.join(soak, f)) as fh:
        recs = []
        for line in fh:
            try:
                recs.append(json.loads(line))
            except json.JSONDecodeError:
                if line.endswith("\n"):
                    raise
                # the torn last line of a segment killed mid-append
        logs.append({r["step"]: r for r in recs if "loss" in r and r.get("knn_top1") is None})
import re
def resumed_at(k):
    """The checkpoint step segment k resumed from (its first output line)."""
    try:
        with open(os.path.join(soak, f"segment-{k}.out")) as fh:
            m = re.search(r"resumed \S+ at step (\d+)", fh.read())
    except OSError:
        return None
    return int(m.group(1)) if m else None

checked = mismatched = failed = 0
for k in range(len(logs) - 1):
    a, b = logs[k], logs[k + 1]
    start = resumed_at(k + 1)
    # Only the steps after the checkpoint were computed again by the new
    # process; earlier ones are copies of the old log.
    rerun = [s for s in a if s in b and start is not None and s > start]
    try:
        with open(os.path.join(soak, f"segment-{k+1}.out")) as fh:
            err = [l for l in fh if l.startswith("pretrain: ")]
    except OSError:
        err = []
    if err:
        failed += 1
        print(f"resume {k+1} failed: {err[-1].strip()}")
        continue
    for s in rerun:
        checked += 1
        if a[s]["loss"] != b[s]["loss"]:
            mismatched += 1
            print(f"segment {k}->{k+1}: step {s} loss {a[s]['loss']} != {b[s]['loss']}")
    print(f"resume {k+1}: from the checkpoint at step {start}; segment {k} had logged up to step {max(a, default=0)}, "
          f"segment {k+1} up to {max(b, default=0)}; {len(rerun)} re-run steps compared")
print(f"resumes that failed: {failed}")
# metrics.jsonl is flushed with each checkpoint, so a killed segment's log
# ends at its last checkpoint; its progress lines (stdout, unbuffered) go
# on to the kill. Compare those of the steps the next segment ran again.
def progress(k):
    try:
        with open(os.path.join(soak, f"segment-{k}.out")) as fh:
            return {int(m.group(1)): m.group(2) for m in re.finditer(r"step (\d+)/\d+\s+loss (\S+)", fh.read())}
    except OSError:
        return {}
pchecked = pdiff = 0
for k in range(len(segs) - 1):
    a, b, start = progress(k), progress(k + 1), resumed_at(k + 1)
    for st in sorted(x for x in a if x in b and start is not None and x > start):
        pchecked += 1
        if a[st] != b[st]:
            pdiff += 1
            print(f"segment {k}->{k+1}: step {st} progress loss {a[st]} != {b[st]}")
print(f"progress lines of re-run steps compared: {pchecked}, differing: {pdiff}")
mismatched += pdiff
print(f"compared {checked} logged steps across {len(logs)-1} resumes: {mismatched} differ")
last = logs[-1] if logs else {}
def series(key):
    return [(s, r["process"][key]) for s, r in sorted(last.items()) if r.get("process")]
for key in ("rss_bytes", "heap_bytes", "goroutines", "open_fds"):
    s = series(key)
    if s:
        n = len(s); q = [s[0], s[n // 4], s[n // 2], s[3 * n // 4], s[-1]]
        print(key, " ".join(f"step {a}: {b}" for a, b in q), "max", max(v for _, v in s))
with open(os.path.join(soak, "samples.csv")) as fh:
    rows = list(csv.DictReader(fh))
if rows:
    rss = [int(r["rss_kb"]) for r in rows]
    fds = [int(r["fds"]) for r in rows]
    print(f"outside samples: {len(rows)}, rss_kb min {min(rss)} max {max(rss)}, fds min {min(fds)} max {max(fds)}")
    # The curve: resident memory every 5 minutes of soak time, and per
    # segment (one process) the least-squares slope after its first five
    # minutes of warm-up, which is what a leak would show as.
    print("rss curve (soak minute: MB):", " ".join(
        f"{int(r['t']) // 60}:{int(r['rss_kb']) / 1024:.0f}" for i, r in enumerate(rows)
        if i == 0 or int(r["t"]) // 300 != int(rows[i - 1]["t"]) // 300))
    by_pid = {}
    for r in rows:
        by_pid.setdefault(r["pid"], []).append((int(r["t"]), int(r["rss_kb"]), int(r["fds"])))
    for k, (pid, pts) in enumerate(by_pid.items()):
        t0 = pts[0][0]
        warm = [(t, v) for t, v, _ in pts if t - t0 >= 300]
        slope = 0.0
        if len(warm) >= 3:
            mt = sum(t for t, _ in warm) / len(warm)
            mv = sum(v for _, v in warm) / len(warm)
            den = sum((t - mt) ** 2 for t, _ in warm)
            slope = sum((t - mt) * (v - mv) for t, v in warm) / den * 3600 / 1024 if den else 0.0
        print(f"segment {k} (pid {pid}): {len(pts)} samples over {(pts[-1][0] - t0) / 60:.1f} min, "
              f"rss {min(v for _, v, _ in pts) / 1024:.0f}..{max(v for _, v, _ in pts) / 1024:.0f} MB, "
              f"slope after warm-up {slope:+.1f} MB/hour, fds {min(f for *_, f in pts)}..{max(f for *_, f in pts)}")
sys.exit(1 if mismatched or failed else 0)
