#!/usr/bin/env python3
"""Trade-offs of a sweep: bpsim.plots.sweep (python/bpsim/plots.py) on a results.csv. Compute
sweeps: energy against latency with its Pareto front, then peak memory against recompute
overhead (or latency against the axes when no policy varies them); DRAM sweeps: achieved
bandwidth and energy per byte. Points are numbered; the key under the plot names them.

usage: scripts/plot_sweep.py OUT_DIR/results.csv [-o sweep.png] [--group AXIS]

--group AXIS draws one front per value of that axis (e.g. workload.batch: points of
different batch sizes do different work, so one front over all of them says little).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from bpsim import plots  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv")
    ap.add_argument("-o", "--output", default="sweep.png")
    ap.add_argument("--group", help="axis whose values get a front each")
    args = ap.parse_args()
    try:
        plots.sweep(args.csv, args.output, group=args.group)
    except (ValueError, OSError) as e:
        sys.exit(f"plot_sweep: {e}")
    print(args.output)


if __name__ == "__main__":
    main()
