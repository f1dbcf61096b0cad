#!/usr/bin/env python3
"""Memory against time over one training step, one line per memory policy: bpsim.plots.compare
(python/bpsim/plots.py) on the timeline.csv that `bpsim compare` writes.

usage: scripts/plot_compare.py OUT_DIR/timeline.csv [-o memory.png]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from bpsim import plots  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("timeline")
    ap.add_argument("-o", "--out", default="memory.png")
    args = ap.parse_args()
    try:
        plots.compare(args.timeline, args.out)
    except (ValueError, OSError) as e:
        sys.exit(f"plot_compare: {e}")
    print(args.out)


if __name__ == "__main__":
    main()
