#!/usr/bin/env python3
"""Pareto fronts of a sweep: energy against latency, and peak memory against recompute
overhead, each point labelled by its axis values.

usage: scripts/plot_sweep.py OUT_DIR/results.csv [-o sweep.png] [--group AXIS]

--group AXIS draws one front per value of that axis (e.g. workload.batch: points of
different batch sizes do different work, so one front over all of them says little).
"""
import argparse
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

FIXED = {"index", "hash", "status", "cycles", "seconds", "energy_pj", "macs", "macs_executed",
         "macs_gated", "dram_read_bytes", "dram_write_bytes", "onchip_read_bytes",
         "onchip_write_bytes", "saved_after_forward_bytes", "peak_bytes", "recompute_macs", "error"}


def pareto(df, x, y):
    """Rows not dominated in (x, y), both minimised, sorted by x."""
    pts = df.sort_values([x, y])
    front, best = [], float("inf")
    for _, row in pts.iterrows():
        if row[y] < best:
            front.append(row)
            best = row[y]
    return pd.DataFrame(front)


def label_axes(df, axes):
    """Axes worth naming in a label: an axis that varies one-to-one with an earlier one (a
    zip partner, e.g. cols with rows) adds nothing."""
    kept = []
    for a in axes:
        if not any(df.groupby(b)[a].nunique().max() == 1 and df.groupby(a)[b].nunique().max() == 1
                   for b in kept):
            kept.append(a)
    return kept


def label(row, axes):
    return ", ".join(f"{a.split('.')[-1]}={row[a]}" for a in axes)


def panel(ax, df, axes, x, y, xlabel, ylabel, group=None):
    ax.scatter(df[x], df[y], s=14, color="0.6", label="points")
    groups = [(None, df)] if group is None else list(df.groupby(group, sort=True))
    shown = [a for a in axes if a != group]
    for i, (value, part) in enumerate(groups):
        front = pareto(part, x, y)
        name = "Pareto front" if value is None else f"front, {group.split('.')[-1]}={value}"
        ax.plot(front[x], front[y], "o-", color=f"C{(i + 3) % 10}", label=name)
        for _, row in front.iterrows():
            ax.annotate(label(row, shown), (row[x], row[y]), fontsize=7, xytext=(4, 4),
                        textcoords="offset points")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("-o", "--output", default="sweep.png")
    ap.add_argument("--group", help="axis whose values get a front each")
    args = ap.parse_args()
    df = pd.read_csv(args.csv)
    ok = df[df["status"] == "ok"].copy()
    if ok.empty:
        sys.exit("plot_sweep: no successful points in " + args.csv)
    axes = [c for c in df.columns if c not in FIXED]
    if args.group and args.group not in axes:
        sys.exit(f"plot_sweep: --group {args.group} is not an axis of this sweep ({', '.join(axes)})")
    axes = label_axes(ok, axes) if len(ok) > 1 else axes
    ok["latency_ms"] = ok["seconds"] * 1e3
    ok["energy_mj"] = ok["energy_pj"] * 1e-9
    ok["peak_mib"] = ok["peak_bytes"] / 2**20
    # Recompute overhead: MACs spent recomputing over the step's other MACs (0 without a policy).
    ok["recompute_overhead"] = ok["recompute_macs"] / (ok["macs"] - ok["recompute_macs"])
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5))
    panel(a, ok, axes, "latency_ms", "energy_mj", "latency (ms)", "energy (mJ)", args.group)
    panel(b, ok, axes, "recompute_overhead", "peak_mib", "recompute overhead (extra MACs, fraction)",
          "peak memory (MiB)", args.group)
    fig.suptitle(f"{args.csv}: {len(ok)} points")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(args.output)


if __name__ == "__main__":
    main()
