#!/usr/bin/env python3
"""Memory against time over one training step, one line per memory policy, from the
timeline.csv that `bpsim compare` writes (live bytes while each op runs, at its simulated
start and end).

usage: scripts/plot_compare.py OUT_DIR/timeline.csv [-o memory.png]
"""
import argparse
import csv
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    """policy -> [(start_s, end_s, live_bytes)] in op order."""
    runs = OrderedDict()
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            runs.setdefault(row["policy"], []).append(
                (float(row["start_s"]), float(row["end_s"]), int(row["live_bytes"])))
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("timeline")
    ap.add_argument("-o", "--out", default="memory.png")
    args = ap.parse_args()
    runs = load(args.timeline)
    if not runs:
        sys.exit("plot_compare: no rows in " + args.timeline)
    fig, ax = plt.subplots(figsize=(9, 5))
    styles = ["-", "--", "-.", ":"]
    for n, (policy, ops) in enumerate(runs.items()):
        xs, ys = [], []
        for start, end, live in ops:
            xs += [start * 1e3, end * 1e3]
            ys += [live / 2**20, live / 2**20]
        # Policies that make the same choice draw the same line; the dashes keep each visible.
        ax.plot(xs, ys, label=policy, linewidth=1.4, linestyle=styles[n % len(styles)])
    ax.set_xlabel("time in the step (ms)")
    ax.set_ylabel("live memory (MiB)")
    ax.set_title("memory over one training step, per policy")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(args.out)


if __name__ == "__main__":
    main()
