#!/usr/bin/env bash
# Speed of the systolic model: (0) the full ResNet-50 training step from its spec
# (configs/workloads/resnet50.yaml: every conv, BN, ReLU, pool, FC forward and backward and
# the update, batch 32) on the 128×128 bf16 preset — target under 2 s wall; (1) the same
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

cat > "$work/r50spec.yaml" <<YAML
include: [$root/configs/arch/systolic_128x128_bf16.yaml, $inc]
workload: { spec: $root/configs/workloads/resnet50.yaml, batch: 32 }
YAML
t0=$(date +%s.%N)
"$build/bpsim" run "$work/r50spec.yaml" --out "$work/r50spec" --quiet > /dev/null
t1=$(date +%s.%N)
figs=$(/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(len(r['ops']), 'ops,', r['totals']['cycles'], 'cycles')" "$work/r50spec/report.json")
echo "resnet50 train step from its spec (batch 32, 128x128 bf16): $figs, wall $(echo "$t1 - $t0" | bc) s"
[ "$peer" = "-" ] && exit 0

BPSIM_CSV="$peer/topologies/conv_nets/Resnet50.csv" BPSIM_TRACE="$work/r50.jsonl" BPSIM_BATCH=32 BPSIM_TRAIN=1 \
  "$build/bpsim_tests" "[systolic_tool]" > /dev/null
cat > "$work/r50.yaml" <<YAML
include: [$root/configs/arch/systolic_128x128_bf16.yaml, $inc]
workload: { trace: $work/r50.jsonl }
YAML
t0=$(date +%s.%N)
"$build/bpsim" run "$work/r50.yaml" --out "$work/r50" --force --quiet > /dev/null
t1=$(date +%s.%N)
cycles=$(/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['totals']['cycles'], len(r['ops']))" "$work/r50/report.json")
echo "resnet50 train step (batch 32, 128x128 bf16): ops+cycles: $cycles, wall $(echo "$t1 - $t0" | bc) s"

for m in 1024 1048576 1073741824; do
  printf 'Layer,M,N,K,\nbig,%s,4096,4096,\n' "$m" > "$work/g.csv"
  BPSIM_CSV="$work/g.csv" BPSIM_TRACE="$work/g.jsonl" "$build/bpsim_tests" "[systolic_tool]" > /dev/null
  cat > "$work/g.yaml" <<YAML
include: [$root/configs/arch/systolic_128x128_bf16.yaml, $inc]
workload: { trace: $work/g.jsonl }
YAML
  t0=$(date +%s.%N)
  "$build/bpsim" run "$work/g.yaml" --out "$work/g" --force --quiet > /dev/null
  t1=$(date +%s.%N)
  c=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['totals']['cycles'])" "$work/g/report.json")
  echo "gemm M=$m N=4096 K=4096: $c cycles, wall $(echo "$t1 - $t0" | bc) s"
done
