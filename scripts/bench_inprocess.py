#!/usr/bin/env python3
"""Times configs run in this process through the bpsim package (README "Python"): each group's
configs once to check them, then REPEAT times; prints each group's mean wall time of one pass
over its configs. With CONFIG@REPORT, the in-process report.json must equal REPORT byte for
byte (the CLI's run of the same config), so the timed runs are the ones compared.

usage: PYTHON scripts/bench_inprocess.py [--repeat N] LABEL=CONFIG[@REPORT][,CONFIG[@REPORT]...] ...
  PYTHON: an interpreter with the package installed (e.g. .venv/bin/python)
output: one line per group, "LABEL WALL CPU": seconds of one pass (means; no process start, no
files), wall-clock and this process's CPU time (user + system)
"""
import argparse
import sys
import time

import bpsim


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("groups", nargs="+", metavar="LABEL=CONFIG[@REPORT],...")
    args = ap.parse_args()
    groups = []
    for g in args.groups:
        label, _, items = g.partition("=")
        if not items:
            sys.exit(f"bench_inprocess: {g}: expected LABEL=CONFIG[,CONFIG...]")
        groups.append((label, [i.partition("@")[::2] for i in items.split(",")]))
    for label, items in groups:
        for config, expect in items:
            r = bpsim.run(config)
            if expect:
                with open(expect, encoding="utf-8") as f:
                    if f.read() != r.json_text:
                        sys.exit(f"bench_inprocess: {config}: the in-process report differs from {expect}")
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.repeat):
            for config, _ in items:
                bpsim.run(config)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{label} {wall / args.repeat:.6f} {cpu / args.repeat:.6f}")


if __name__ == "__main__":
    main()
