#!/usr/bin/env bash
# Start-up figures: wall time (best and median of N runs) and CPU time (user + system, median)
# of commands that do little work, so that what bpsim pays before and after main shows:
# --version, --help, list, workload on a small spec, and the smallest run (a 200-request
# traffic run; its report is written, and its wall time includes those writes).
# usage: scripts/bench_start.sh [BPSIM_EXE] [N]   (N runs each, default 50)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BPSIM=${1:-$HERE/build/bpsim}
N=${2:-50}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 - "$BPSIM" "$N" "$HERE" "$WORK" <<'PY'
import os, statistics, sys
bpsim, n, here, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sys.path.insert(0, f"{here}/scripts")
from time_process import timed_runs
cases = [
    ("--version", [bpsim, "--version"]),
    ("--help", [bpsim, "--help"]),
    ("list", [bpsim, "list"]),
    ("workload deep_mlp", [bpsim, "workload", f"{here}/configs/workloads/deep_mlp.yaml"]),
    ("run traffic 200 requests", [bpsim, "run", f"{here}/configs/examples/ddr4_stream.yaml", "--set",
                                  "accelerator.requests=200", "--out", f"{work}/run", "--force", "--quiet"]),
]
env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
print(f"{'command':<26} {'wall best':>10} {'wall p50':>10} {'cpu p50':>10}   ({n} runs each)")
for name, argv in cases:
    walls, cpus, _ = timed_runs(argv, n, env)
    print(f"{name:<26} {min(walls) * 1e3:>7.2f} ms {statistics.median(walls) * 1e3:>7.2f} ms "
          f"{statistics.median(cpus) * 1e3:>7.2f} ms")
print(f"machine: {os.cpu_count()} cores")
PY
