#!/usr/bin/env python3
"""Pareto fronts of a sweep: energy against latency, and peak memory against recompute
overhead, each point labelled by its axis values.

usage: scripts/plot_sweep.py OUT_DIR/results.csv [-o sweep.png]
"""
import argparse
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

FIXED = {"index", "hash", "status", "cycles", "seconds", "energy_pj", "macs", "macs_executed",
         "macs_gated", "dram_read_bytes", "dram_write_bytes", "onchip_read_bytes",
         "onchip_write_bytes", "saved_after_forward_bytes", "peak_bytes", "error"}


def pareto(df, x, y):
    """Rows not dominated in (x, y), both minimised, sorted by x."""
    pts = df.sort_values([x, y])
    front, best = [], float("inf")
    for _, row in pts.iterrows():
        if row[y] < best:
            front.append(row)
            best = row[y]
    return pd.DataFrame(front)


def label(row, axes):
    return ", ".join(f"{a.split('.')[-1]}={row[a]}" for a in axes)


def panel(ax, df, axes, x, y, xlabel, ylabel):
    ax.scatter(df[x], df[y], s=14, color="0.6", label="points")
    front = pareto(df, x, y)
    ax.plot(front[x], front[y], "o-", color="C3", label="Pareto front")
    for _, row in front.iterrows():
        ax.annotate(label(row, axes), (row[x], row[y]), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("-o", "--output", default="sweep.png")
    args = ap.parse_args()
    df = pd.read_csv(args.csv)
    ok = df[df["status"] == "ok"].copy()
    if ok.empty:
        sys.exit("plot_sweep: no successful points in " + args.csv)
    axes = [c for c in df.columns if c not in FIXED]
    ok["latency_ms"] = ok["seconds"] * 1e3
    ok["energy_mj"] = ok["energy_pj"] * 1e-9
    ok["peak_mib"] = ok["peak_bytes"] / 2**20
    # Recompute overhead: MACs beyond the fewest any point of the sweep needs.
    ok["recompute_overhead"] = ok["macs"] / ok["macs"].min() - 1.0
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5))
    panel(a, ok, axes, "latency_ms", "energy_mj", "latency (ms)", "energy (mJ)")
    panel(b, ok, axes, "recompute_overhead", "peak_mib", "recompute overhead (extra MACs, fraction)",
          "peak memory (MiB)")
    fig.suptitle(f"{args.csv}: {len(ok)} points")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(args.output)


if __name__ == "__main__":
    main()
