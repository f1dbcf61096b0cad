#!/usr/bin/env bash
# Sweep speed: a 64-point traffic sweep run with 1 local worker, then with each count of local
# workers and each MPI setting asked for: W (mpirun -np W+1, each worker rank running one point
# at a time; rank 0 hands out points) or WxJ (W worker ranks running J points each at once,
# bpsim sweep -j J). Prints seconds and the speedup over one local worker per setting, and
# checks every run's results.csv against the one-worker run's.
# usage: scripts/bench_sweep.sh [BPSIM_EXE] [LOCAL_COUNTS] [MPI_SETTINGS]
#   e.g. scripts/bench_sweep.sh build/bpsim "2 4 8 16" "16 1x16"   (defaults: "2 4" and "2";
#   MPI_SETTINGS "" skips MPI, as does a machine without mpirun)
# REQUESTS (environment; default 40000): requests per point, to scale each point's work.
# ROUNDS (environment; default 1): the one-worker run and the local counts are repeated this
# many times, each round's speedups taken against that round's one-worker run, and the median
# per count printed: on a machine whose speed drifts, a ratio within a round is the steadier
# figure (MPI settings run once, against the last round's one-worker run).
# MPIRUN_FLAGS (environment; default "--oversubscribe --bind-to none"): mpirun binds each rank
# to a core when it starts two, and a rank's points (its forks) would share that core.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BPSIM=${1:-$HERE/build/bpsim}
LOCAL=${2-2 4}
MPI=${3-2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/sweep.yaml" <<YAML
base: $HERE/configs/examples/ddr4_random.yaml
set: {accelerator.requests: ${REQUESTS:-40000}}
axes:
  run.seed: [1, 2, 3, 4, 5, 6, 7, 8]
  accelerator.pattern: [stream, random]
  accelerator.read_fraction: [1.0, 0.5]
  memory.page_policy: [open, closed]
YAML
# Wall seconds and the CPU seconds of the command and every process it waited for (the
# points' runs): CPU that grows with the worker count is contention, not start-up.
t() { python3 "$HERE/scripts/time_process.py" --no-stderr --digits 2 1 "$@"; }
ratio() { python3 -c "print(round($1 / $2, 2))"; }
same() { cmp -s "$WORK/j1/results.csv" "$1/results.csv" && echo "identical results" || echo "RESULTS DIFFER"; }
ROUNDS=${ROUNDS:-1}
declare -A speedups
for ((round = 1; round <= ROUNDS; round++)); do
  [ "$ROUNDS" -gt 1 ] && echo "round $round of $ROUNDS"
  rm -rf "$WORK"/j*
  read -r base cpu < <(t "$BPSIM" sweep "$WORK/sweep.yaml" -j 1 --out "$WORK/j1")
  echo "64 points of ${REQUESTS:-40000} requests, -j 1: ${base} s (CPU ${cpu} s)"
  for j in $LOCAL; do
    read -r s cpu < <(t "$BPSIM" sweep "$WORK/sweep.yaml" -j "$j" --out "$WORK/j$j")
    r=$(ratio "$base" "$s")
    speedups[$j]="${speedups[$j]:-} $r"
    echo "64 points, -j $j: ${s} s (CPU ${cpu} s), speedup $r, $(same "$WORK/j$j")"
  done
done
if [ "$ROUNDS" -gt 1 ]; then
  for j in $LOCAL; do
    echo "-j $j over $ROUNDS rounds: median speedup $(python3 -c "import statistics, sys; print(statistics.median(map(float, sys.argv[1].split())))" "${speedups[$j]}") (each:${speedups[$j]})"
  done
fi
if [ -n "$MPI" ] && ! command -v mpirun >/dev/null; then
  echo "MPI: no mpirun on this machine, skipped"
  MPI=""
fi
MPIRUN_FLAGS=${MPIRUN_FLAGS:---oversubscribe --bind-to none}
# One host: shared memory between ranks (btl self,vader) and Open MPI's own point-to-point
# layer (pml ob1), which spares each rank's MPI_Init the probe for UCX (0.2 s where UCX is
# installed); OMPI_MCA_pml set in the environment wins.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
export OMPI_MCA_pml=${OMPI_MCA_pml:-ob1}
for m in $MPI; do
  w=${m%x*}
  j=1
  [ "$m" != "$w" ] && j=${m#*x}
  # shellcheck disable=SC2086 # MPIRUN_FLAGS is several words
  read -r s cpu < <(t mpirun $MPIRUN_FLAGS -np $((w + 1)) "$BPSIM" sweep "$WORK/sweep.yaml" -j "$j" --out "$WORK/mpi$m")
  echo "64 points, mpirun -np $((w + 1)) -j $j ($w worker ranks x $j): ${s} s (CPU ${cpu} s), speedup $(ratio "$base" "$s"), $(same "$WORK/mpi$m")"
  # What mpirun itself costs: as many ranks, each printing its version and ending.
  # shellcheck disable=SC2086
  read -r s cpu < <(t mpirun $MPIRUN_FLAGS -np $((w + 1)) "$BPSIM" --version)
  echo "   mpirun -np $((w + 1)) bpsim --version alone: ${s} s (CPU ${cpu} s)"
done
echo "machine: $(nproc) cores"
