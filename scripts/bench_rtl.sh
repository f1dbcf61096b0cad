#!/usr/bin/env bash
# Simulation speed of the systolic accelerator with backend: model against backend: rtl (every
# fold on the Verilated 8×8 PE array) on the same workload: simulated cycles per wall second.
# usage: scripts/bench_rtl.sh [BPSIM_EXE]      (env: M, N, K of the one GEMM; LAYERS of them;
#        BACKENDS, default "model rtl": scripts/doc_figures.py takes the cycles from the model
#        run alone, since the rtl run costs seconds)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BPSIM=${1:-$HERE/build/bpsim}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
M=${M:-256} N=${N:-256} K=${K:-256} LAYERS=${LAYERS:-4} BACKENDS=${BACKENDS:-model rtl}
{
  echo "Layer, M, N, K,"
  for i in $(seq 1 "$LAYERS"); do echo "g$i, $M, $N, $K,"; done
} > "$WORK/t.csv"
cat > "$WORK/c.yaml" <<YAML
include: [$HERE/configs/arch/systolic_32x32_int8.yaml, $HERE/configs/memory/ddr4_2400.yaml, $HERE/configs/energy/45nm.yaml]
accelerator: {rows: 8, cols: 8, timing: scalesim}
workload: {scalesim: t.csv}
YAML
for backend in $BACKENDS; do
  start=$(date +%s%N)
  "$BPSIM" run "$WORK/c.yaml" --quiet --force --out "$WORK/$backend" --set accelerator.backend=$backend >/dev/null
  end=$(date +%s%N)
  python3 - "$backend" "$start" "$end" "$WORK/$backend/report.json" <<'PY'
import json, sys
backend, t0, t1, rep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
wall = (t1 - t0) / 1e9
cycles = json.load(open(rep))["totals"]["cycles"]
print(f"{backend}: {cycles} cycles in {wall:.3f} s wall = {cycles / wall / 1e6:.3f} M cycles/s")
PY
done
