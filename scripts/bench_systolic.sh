#!/usr/bin/env bash
# Speed of the systolic model: (0) the full ResNet-50 training step from its spec
# (configs/workloads/resnet50.yaml: every conv, BN, ReLU, pool, FC forward and backward and
# the update, batch 32, in bf16: the preset's PEs refuse the spec's fp32) on the 128×128 bf16 preset — target under 2 s wall; (1) the same
# network's GEMMs from SCALE-Sim's topology file (forward, dX, dW of every conv/FC layer);
# (2) one GEMM whose cycle count grows 1000× — its wall time must not. (1) and (2) need a
# scale-sim-v2 checkout (nothing is downloaded); without one only (0) runs.
#   scripts/bench_systolic.sh [PEER_DIR|-] [BUILD_DIR]
set -euo pipefail
peer=${1:--}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
inc="$root/configs/memory/ddr4_2400.yaml, $root/configs/energy/45nm.yaml, $root/configs/energy/45nm/systolic.yaml"

# timed NAME WORKLOAD LABEL: runs the 128×128 bf16 preset on WORKLOAD (a flow mapping) and
# prints its op count, cycles and wall time.
timed() {
  printf 'include: [%s, %s]\nworkload: %s\n' "$root/configs/arch/systolic_128x128_bf16.yaml" "$inc" "$2" > "$work/$1.yaml"
  local t0 t1 figs
  t0=$(date +%s.%N)
  "$build/bpsim" run "$work/$1.yaml" --out "$work/$1" --quiet > /dev/null
  t1=$(date +%s.%N)
  figs=$(/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(len(r['ops']), 'ops,', r['totals']['cycles'], 'cycles')" "$work/$1/report.json")
  echo "$3: $figs, wall $(echo "$t1 - $t0" | bc) s"
}

timed r50spec "{ spec: $root/configs/workloads/resnet50.yaml, batch: 32, dtype: bf16 }" \
  "resnet50 train step from its spec in bf16 (batch 32, 128x128 bf16)"
[ "$peer" = "-" ] && exit 0
timed r50 "{ scalesim: $peer/topologies/conv_nets/Resnet50.csv, batch: 32, backward: true, dtype: bf16 }" \
  "resnet50 SCALE-Sim topology, forward + dX + dW (batch 32, 128x128 bf16)"
for m in 1024 1048576 1073741824; do
  printf 'Layer,M,N,K,\nbig,%s,4096,4096,\n' "$m" > "$work/g$m.csv"
  timed "g$m" "{ scalesim: $work/g$m.csv }" "gemm M=$m N=4096 K=4096"
done
