#!/usr/bin/env python3
"""One SCALE-Sim v2 run against one bpsim report (scripts/compare_scalesim.sh).

usage: compare_scalesim_report.py SCALESIM_LOG_DIR BPSIM_REPORT DATAFLOW exact|cycles

Prints one line per layer to stderr: SCALE-Sim's and bpsim's compute cycles and ifmap DRAM
bytes (bpsim's input operand); prints to stdout how many layers mismatch. `exact` counts a
layer whose cycles or ifmap bytes differ; `cycles` counts cycles only and prints the ifmap
ratio (a buffer too small for the ifmap, where the two memory models differ).
"""
import csv
import json
import pathlib
import sys


def rows(log_dir, name):
    path = next(pathlib.Path(log_dir).rglob(name))
    return [r for r in csv.reader(open(path)) if r and r[0].strip().isdigit()]


def main():
    log_dir, report, df, mode = sys.argv[1:5]
    compute = rows(log_dir, "COMPUTE_REPORT.csv")
    # DETAILED_ACCESS_REPORT.csv: column 12 is "DRAM IFMAP Reads" (one word per int8 byte).
    access = rows(log_dir, "DETAILED_ACCESS_REPORT.csv")
    ops = [o for o in json.load(open(report))["ops"] if o["phase"] == "forward"]
    bad = 0
    for c, a, op in zip(compute, access, ops):
        # SCALE-Sim reports the index of the last cycle: the cycle count minus one.
        sc, ours = int(c[1]) + 1, op["extra"]["array_cycles"]
        ifmap_ss, ifmap_bp = int(a[12]), op["extra"]["operands"]["input"]["dram_read_bytes"]
        cycles_ok, ifmap_ok = sc == ours, ifmap_ss == ifmap_bp
        bad += not cycles_ok or (mode == "exact" and not ifmap_ok)
        last = ("yes" if ifmap_ok else "NO") if mode == "exact" else f"{ifmap_bp / ifmap_ss:.4f}x"
        print(f'{op["name"]:<8} {df:<3} {sc:>12} {ours:>12} {"yes" if cycles_ok else "NO":>6}  '
              f'{ifmap_ss:>12} {ifmap_bp:>12} {last:>6}', file=sys.stderr)
    print(bad)


if __name__ == "__main__":
    main()
