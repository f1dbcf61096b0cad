#!/usr/bin/env bash
# Simulation speed of the mesh accelerator with backend: model against backend: rtl (every
# firing's ranges, overlaps and output ports on the Verilated router) on the same workload:
# the LeNet-5 training step of configs/examples/lenet5_train_mesh.yaml with range_units 1
# (what the RTL router implements). Prints accelerator cycles per wall second for both, and
# for rtl also the router's own clock edges per wall second.
# usage: scripts/bench_rtl_mesh.sh [BPSIM_EXE]
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BPSIM=${1:-$HERE/build/bpsim}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for backend in model rtl; do
  start=$(date +%s%N)
  "$BPSIM" run "$HERE/configs/examples/lenet5_train_mesh.yaml" --quiet --force --out "$WORK/$backend" \
    --set accelerator.cluster.range_units=1 --set accelerator.backend=$backend >/dev/null
  end=$(date +%s%N)
  python3 - "$backend" "$start" "$end" "$WORK/$backend/report.json" <<'PY'
import json, sys
backend, t0, t1, rep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
wall = (t1 - t0) / 1e9
r = json.load(open(rep))
cycles = r["totals"]["cycles"]
line = f"{backend}: {cycles} cycles in {wall:.3f} s wall = {cycles / wall / 1e6:.3f} M cycles/s"
cl = r["stats"]["mesh"]["cluster"]
if "rtl_router_edges" in cl:
    line += (f"; router: {cl['rtl_router_firings']} firings, {cl['rtl_router_edges']} edges = "
             f"{cl['rtl_router_edges'] / wall / 1e6:.3f} M edges/s, mismatches {cl['rtl_router_mismatches']}")
print(line)
PY
done
cmp <(python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['totals']))" "$WORK/model/report.json") \
    <(python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['totals']))" "$WORK/rtl/report.json") \
  && echo "totals equal"
