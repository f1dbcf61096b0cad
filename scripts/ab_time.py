#!/usr/bin/env python3
"""A/B timing of two executables on the same command line, for a machine whose speed drifts
(a shared or virtual one): N runs of each, alternating A, B, A, B…, each a process of its own
timed by its rusage (time_process.timed_runs). Prints each side's median CPU seconds and the
median of the per-pair ratios B/A with its quartiles: drift slower than one pair cancels in a
ratio, where it would shift two medians taken apart. Exits with a message if a run fails.
usage: ab_time.py [--wall] N A B -- ARG ...   (N ≥ 4 pairs; --wall: wall seconds, not CPU)
  e.g. scripts/ab_time.py 15 old/bpsim build/bpsim -- run configs/examples/lenet5_train_mesh.yaml \\
         --set accelerator.noc.model=flow --out /tmp/ab --force --quiet"""
import os
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from time_process import timed_runs  # noqa: E402


def main(args):
    wall = bool(args) and args[0] == "--wall"
    if wall:
        args = args[1:]
    if len(args) < 4 or args[3] != "--" or not args[0].isdigit() or int(args[0]) < 4:
        sys.exit("usage: ab_time.py [--wall] N A B -- ARG ...   (N >= 4 pairs)")
    n, exes, rest = int(args[0]), args[1:3], args[4:]
    for exe in exes:
        if not shutil.which(exe):
            sys.exit(f"ab_time: {exe}: not an executable file")
    times = ([], [])  # A's, B's
    for _ in range(n):
        for side, exe in enumerate(exes):
            walls, cpus, _ = timed_runs([exe] + rest, 1, stderr=False)
            times[side].append(walls[0] if wall else cpus[0])
    ratios = [y / x for x, y in zip(*times)]
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    kind = "wall" if wall else "CPU"
    print(f"{kind} s, median of {n}: A {statistics.median(times[0]):.4f}  B {statistics.median(times[1]):.4f}; "
          f"B/A per pair: median {statistics.median(ratios):.3f} (quartiles {q1:.3f}-{q3:.3f})")


if __name__ == "__main__":
    main(sys.argv[1:])
