#!/usr/bin/env bash
# Speed of the DRAM model: simulated requests per wall-clock second on the example configs.
# usage: scripts/bench_memory.sh [BPSIM_EXE]
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BPSIM=${1:-$HERE/build/bpsim}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
N=${N:-500000}
for pattern in stream random; do
  start=$(date +%s%N)
  "$BPSIM" run "$HERE/configs/examples/ddr4_$pattern.yaml" --quiet --force --out "$WORK/o" \
    --set accelerator.requests=$N >/dev/null
  end=$(date +%s%N)
  python3 - "$pattern" "$N" "$start" "$end" "$WORK/o/report.json" <<'PY'
import json, sys
pattern, n, t0, t1, rep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
wall = (t1 - t0) / 1e9
cycles = json.load(open(rep))["totals"]["cycles"]
print(f"{pattern}: {n} requests in {wall:.2f} s wall = {n / wall / 1e6:.2f} M requests/s, "
      f"{cycles / wall / 1e6:.1f} M DRAM cycles/s")
PY
done
