#!/usr/bin/env python3
"""Result reuse leaves every output the same: each example config (configs/examples/) and
each cell of the matrix (scripts/matrix.py: every network spec x every accelerator x
{none, checkpoint}) runs through the real `bpsim run` with run.reuse on and with it off,
and the two runs must agree byte for byte: exit code, console (stdout and stderr, the
output folder's name aside) and every file written (report.json, ops.csv, report.html),
except run_stats.json, which holds the reuse counts and the wall time (docs/techniques.md,
"Result reuse").

A run whose run_stats.json says no op was eligible (reuse_eligible_ops 0: the model took the
key path for none of its ops, e.g. the mesh) ran the same code as with reuse off; its second
run is skipped and counted as such. A refused run (exit 2) is run both ways: the refusal must
not depend on the key. The summary gives the runs compared, the ops and the reused ops.

usage: reuse_check.py --bpsim BUILD/bpsim [--jobs N] [--only examples|matrix]
"""
import argparse
import concurrent.futures
import filecmp
import glob
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import matrix  # noqa: E402  (its cells and their configs)


def run(bpsim, cfg, reuse, out):
    p = subprocess.run([bpsim, "run", cfg, "--out", out, "--set", "run.reuse=" + reuse], capture_output=True,
                       text=True, timeout=1200, cwd=ROOT)
    stats = {}
    if os.path.exists(os.path.join(out, "run_stats.json")):
        with open(os.path.join(out, "run_stats.json")) as f:
            stats = json.load(f)
    return p.returncode, p.stdout.replace(out, "OUT"), p.stderr.replace(out, "OUT"), stats


def files(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(f for f in os.listdir(folder) if f != "run_stats.json")


def check(bpsim, name, cfg, scratch):
    """One config both ways: (name, problem or "", ops, reused, compared)."""
    on_dir, off_dir = os.path.join(scratch, name + ".on"), os.path.join(scratch, name + ".off")
    on = run(bpsim, cfg, "on", on_dir)
    if on[0] == 0 and on[3].get("reuse_eligible_ops", 0) == 0:
        return name, "", on[3].get("ops", 0), 0, False
    off = run(bpsim, cfg, "off", off_dir)
    problems = []
    for what, a, b in (("exit code", on[0], off[0]), ("stdout", on[1], off[1]), ("stderr", on[2], off[2])):
        if a != b:
            problems.append("%s differs (on: %r, off: %r)" % (what, str(a)[-300:], str(b)[-300:]))
    if files(on_dir) != files(off_dir):
        problems.append("files differ: on %s, off %s" % (files(on_dir), files(off_dir)))
    for f in files(on_dir):
        if f in files(off_dir) and not filecmp.cmp(os.path.join(on_dir, f), os.path.join(off_dir, f), shallow=False):
            problems.append(f + " differs")
    if on[0] == 0 and off[3].get("reused_ops", 0) != 0:
        problems.append("reuse off reused %d ops" % off[3]["reused_ops"])
    subprocess.run(["rm", "-rf", on_dir, off_dir])
    return name, "; ".join(problems), on[3].get("ops", 0), on[3].get("reused_ops", 0), True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bpsim", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--only", choices=("examples", "matrix"))
    args = ap.parse_args()
    bpsim = os.path.abspath(args.bpsim)
    with tempfile.TemporaryDirectory(prefix="bpsim_reuse_") as scratch:
        todo = []
        if args.only != "matrix":
            for cfg in sorted(glob.glob(os.path.join(ROOT, "configs", "examples", "*.yaml"))):
                todo.append(("example " + os.path.basename(cfg)[:-5], cfg))
        if args.only != "examples":
            for spec in matrix.specs():
                for accel in matrix.ACCELERATORS:
                    for policy in matrix.POLICIES:
                        name = "%s__%s__%s" % (spec, accel, policy)
                        cfg = os.path.join(scratch, name + ".yaml")
                        with open(cfg, "w") as f:
                            f.write(matrix.config_text(spec, accel, policy))
                        todo.append(("matrix " + name, cfg))
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            results = list(ex.map(lambda t: check(bpsim, t[0].replace(" ", "_"), t[1], scratch), todo))
    bad = [r for r in results if r[1]]
    for name, problem, *_ in bad:
        print("DIFFERS %s: %s" % (name, problem))
    compared = sum(1 for r in results if r[4])
    ops = sum(r[2] for r in results if r[4])
    reused = sum(r[3] for r in results)
    print("reuse_check: %d configs, %d run both ways (%d ops, %d of them reused), %d without an eligible op; %d differ"
          % (len(results), compared, ops, reused, len(results) - compared, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
