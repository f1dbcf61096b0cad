#!/usr/bin/env python3
"""Issue #22's speed targets in one run: each benchmark script of its table is run as it
stands, its figure read from what it prints, and set beside the target, met or not.

usage: scripts/bench_targets.py [--build DIR] [--booksim DIR] [--dramsim3 DIR]
                                [--scalesim DIR] [--in-process PYTHON] [--only NAMES] [--log FILE]
                                [--quick]

  --build DIR        a build folder with bpsim in it (default: build)
  --booksim DIR      a BookSim2 checkout with src/booksim built (scripts/compare_booksim.sh)
  --dramsim3 DIR     a DRAMsim3 checkout built with cmake (scripts/compare_dramsim3.sh)
  --scalesim DIR     a SCALE-Sim v2 checkout (scripts/compare_scalesim.sh)
  --in-process PY    a Python with the bpsim package, for SCALE-Sim's in-process figure
  --only NAMES       comma-separated benchmarks to run, of: start scalesim booksim lenet
                     dramsim3 trace sweep (default: all)
  --log FILE         each benchmark's own output, whole (default: a temporary file, named
                     at the end)
  --quick            3 runs where a figure is the median of many (start, lenet): rough
                     figures, to see that every script still runs and reads

A target whose peer is not given, or the sweep on a machine of fewer than 16 cores, is
printed as not run. Exit code 0 when every target run is met, 1 when one is not, 2 when a
benchmark fails or its output cannot be read (the script it runs changed its output).
The peers are never downloaded here: build them beside the project (docs/speed.md).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Unreadable(Exception):
    """A benchmark failed, or its output lacks the figure this script reads from it."""


def run(log, argv, env=None):
    """Runs a benchmark script; its output goes to the log and comes back as text."""
    log.write(f"\n$ {' '.join(argv)}\n")
    log.flush()
    p = subprocess.run(argv, cwd=HERE, env=dict(os.environ, **(env or {})), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    log.write(p.stdout)
    log.flush()
    if p.returncode != 0:
        script = os.path.basename(argv[1] if argv[0] in ("bash", sys.executable) else argv[0])
        last = [line for line in p.stdout.splitlines() if line.strip()][-1:] or ["no output"]
        raise Unreadable(f"{script} exited with {p.returncode}: {last[0].strip()}")
    return p.stdout


def find(pattern, text, what):
    m = re.search(pattern, text, re.MULTILINE)
    if not m:
        raise Unreadable(f"no {what} in the output")
    return m


def start(a, log):
    n = 3 if a.quick else 30
    out = run(log, ["bash", "scripts/bench_start.sh", a.bpsim, str(n)])
    # "name   wall_best ms   wall_p50 ms   cpu_p50 ms": the median wall is the figure.
    p50 = lambda name: float(find(rf"^{re.escape(name)}\s+\S+ ms\s+(\S+) ms", out, name).group(1))
    return [(f"--version, wall median of {n}", p50("--version"), "ms", "<=", 5.0),
            (f"smallest run, wall median of {n}", p50("run traffic 200 requests"), "ms", "<=", 10.0)]


def scalesim(a, log):
    env = {"IN_PROCESS": a.in_process} if a.in_process else {}
    out = run(log, ["bash", "scripts/compare_scalesim.sh", a.scalesim, a.build], env)
    rows = []
    # "set df ss_wall ss_cpu bp_wall bp_cpu wall_x cpu_x": the GEMM sets are the target's.
    for m in re.finditer(r"^gemm\s+(ws|os|is)\s+\S+\s+\S+\s+\S+\s+\S+\s+(\d+)x", out, re.MULTILINE):
        rows.append((f"SCALE-Sim GEMM set, {m.group(1)}, as a process", float(m.group(2)), "x", ">=", 250.0))
    if not rows:
        raise Unreadable("no GEMM speed rows in the output")
    for m in re.finditer(r"^in-process, (ws|os|is): wall .*?: (\d+)x;", out, re.MULTILINE):
        rows.append((f"SCALE-Sim sets, {m.group(1)}, in-process", float(m.group(2)), "x", ">=", 1000.0))
    return rows


def booksim(a, log):
    out = run(log, ["bash", "scripts/compare_booksim.sh", a.booksim, a.bpsim],
              {"SPEED": "1", "SPEED_ONLY": "1", "SPEED_REPEAT": "3"})
    # "rate   bpsim_wall booksim_wall ratio   bpsim_cpu booksim_cpu ratio", best of 3.
    ratio = lambda r: float(find(rf"^{re.escape(r)}\s+\S+\s+\S+\s+(\S+)\s", out, f"speed row at {r}").group(1))
    return [("BookSim2 8x8 uniform at 0.1, wall, best of 3", ratio("0.1"), "x", ">=", 20.0),
            ("BookSim2 8x8 uniform at 0.34, wall, best of 3", ratio("0.34"), "x", ">=", 10.0)]


def lenet(a, log):
    rows, n = [], 3 if a.quick else 15
    for model in ["flit", "flow"]:
        with tempfile.TemporaryDirectory() as work:
            out = run(log, [sys.executable, "scripts/time_process.py", "--no-stderr", "--digits", "3", str(n), a.bpsim,
                            "run", "configs/examples/lenet5_train_mesh.yaml", "--set", f"accelerator.noc.model={model}",
                            "--out", os.path.join(work, "out"), "--force", "--quiet"])
        wall = float(find(r"^(\S+) \S+$", out, "median wall and CPU").group(1))
        default = " (the example's model)" if model == "flit" else ""
        rows.append((f"LeNet-5 step, 8x8 mesh, {model}{default}, wall median of {n}", wall, "s", "<=", 0.1))
    return rows


def dramsim3(a, log):
    out = run(log, ["bash", "scripts/compare_dramsim3.sh", a.dramsim3, a.bpsim], {"N": "1000000", "REPEAT": "3"})
    rows = []
    for label in ["stream", "random"]:
        # The pattern's row, then its speed line: "... bpsim R.Rx faster (CPU ...)".
        m = find(rf"^{label}\s+DRAMsim3.*\n.*bpsim (\S+)x faster", out, f"speed of {label}")
        rows.append((f"DRAMsim3, 1 M requests, {label}, wall, best of 3", float(m.group(1)), "x", ">=",
                     5.0 if label == "stream" else 4.0))
    return rows


def trace(a, log):
    out = run(log, ["bash", "scripts/bench_trace.sh", a.build, "1000000"], {"BENCH_REPEAT": "3"})
    # "ops wall_s cpu_s ops_per_s peak_rss_mib report_mib csv_mib", the best of 3 by wall.
    m = find(r"^\s*1000000\s+(\S+)\s+\S+\s+\S+\s+(\d+)\s", out, "the 1 M-op row")
    return [("1 M-op trace replay, wall, best of 3", float(m.group(1)), "s", "<=", 3.0),
            ("1 M-op trace replay, peak RSS", float(m.group(2)), "MiB", "<=", 64.0)]


def sweep(a, log):
    cores = os.cpu_count() or 1
    if cores < 16:
        return f"needs 16 cores (this machine has {cores})"
    out = run(log, ["bash", "scripts/bench_sweep.sh", a.bpsim, "16", "16"], {"ROUNDS": "3"})
    local = float(find(r"^-j 16 over 3 rounds: median speedup (\S+)", out, "the local median").group(1))
    rows = [("64-point sweep, 16 local workers, median of 3 rounds", local, "x", ">=", 14.0)]
    if "MPI: no mpirun" in out:
        return rows
    mpi = find(r"^64 points, mpirun -np 17 .*speedup (\S+),", out, "the MPI speedup")
    rows.append(("64-point sweep, MPI, 16 worker ranks", float(mpi.group(1)), "x", ">=", 13.0))
    return rows


# Each benchmark: what it runs and reads, and the peer option it needs (None: none).
BENCH = {"start": (start, None), "scalesim": (scalesim, "scalesim"), "booksim": (booksim, "booksim"),
         "lenet": (lenet, None), "dramsim3": (dramsim3, "dramsim3"), "trace": (trace, None), "sweep": (sweep, None)}


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1])
    ap.add_argument("--build", default=os.path.join(HERE, "build"))
    ap.add_argument("--booksim")
    ap.add_argument("--dramsim3")
    ap.add_argument("--scalesim")
    ap.add_argument("--in-process")
    ap.add_argument("--only", default=",".join(BENCH))
    ap.add_argument("--log")
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.bpsim = os.path.join(a.build, "bpsim")
    only = a.only.split(",")
    for name in only:
        if name not in BENCH:
            ap.error(f"--only: unknown benchmark '{name}' (valid: {', '.join(BENCH)})")
    if not os.access(a.bpsim, os.X_OK):
        ap.error(f"no bpsim at {a.bpsim} (build first, or --build DIR)")
    for flag in ["booksim", "dramsim3", "scalesim"]:
        if getattr(a, flag):
            setattr(a, flag, os.path.abspath(getattr(a, flag)))
    log_path = a.log or tempfile.mkstemp(prefix="bench_targets.", suffix=".log")[1]
    rows, failed, missed = [], False, 0
    with open(log_path, "w") as log:
        for name in only:
            bench, peer = BENCH[name]
            if peer and not getattr(a, peer):
                rows.append((name, f"not run: --{peer} DIR not given"))
                continue
            print(f"running {name} …", file=sys.stderr, flush=True)
            try:
                got = bench(a, log)
            except Unreadable as e:
                rows.append((name, f"FAILED: {e} (log: {log_path})"))
                failed = True
                continue
            if isinstance(got, str):
                rows.append((name, f"not run: {got}"))
                continue
            for what, value, unit, op, target in got:
                met = value <= target if op == "<=" else value >= target
                missed += not met
                sign = "≤" if op == "<=" else "≥"
                rows.append((what, f"{value:>8g} {unit:<4} target {sign} {target:g} {unit:<4} "
                                   f"{'met' if met else 'NOT MET'}"))
    width = max(len(r[0]) for r in rows)
    print(f"issue #22's targets, {os.cpu_count()} cores, bpsim {a.bpsim}")
    for what, text in rows:
        print(f"  {what:<{width}}  {text}")
    print(f"each benchmark's output: {log_path}")
    sys.exit(2 if failed else 1 if missed else 0)


if __name__ == "__main__":
    main()
