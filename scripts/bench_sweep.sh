#!/usr/bin/env bash
# Sweep speed: a 64-point traffic sweep run with 1, 2 and 4 local workers and with 2 MPI
# workers (mpirun -np 3: rank 0 hands out points). Prints seconds and speedup per setting.
# usage: scripts/bench_sweep.sh [BPSIM_EXE]
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BPSIM=${1:-$HERE/build/bpsim}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/sweep.yaml" <<YAML
base: $HERE/configs/examples/ddr4_random.yaml
set: {accelerator.requests: 40000}
axes:
  run.seed: [1, 2, 3, 4, 5, 6, 7, 8]
  accelerator.pattern: [stream, random]
  accelerator.read_fraction: [1.0, 0.5]
  memory.page_policy: [open, closed]
YAML
t() { local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; python3 -c "print(round(($(date +%s%N) - $s) / 1e9, 2))"; }
ratio() { python3 -c "print(round($1 / $2, 2))"; }
base=$(t "$BPSIM" sweep "$WORK/sweep.yaml" -j 1 --out "$WORK/j1")
echo "64 points, -j 1: ${base} s"
for j in 2 4; do
  s=$(t "$BPSIM" sweep "$WORK/sweep.yaml" -j $j --out "$WORK/j$j")
  echo "64 points, -j $j: ${s} s, speedup $(ratio $base $s)"
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
s=$(t mpirun --oversubscribe -np 3 "$BPSIM" sweep "$WORK/sweep.yaml" --out "$WORK/mpi")
echo "64 points, mpirun -np 3 (2 workers): ${s} s, speedup $(ratio $base $s)"
cmp -s "$WORK/j1/results.csv" "$WORK/mpi/results.csv" && echo "MPI results identical to the local run"
echo "machine: $(nproc) cores"
