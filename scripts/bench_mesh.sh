#!/usr/bin/env bash
# Mesh model speed: synthetic 8×8 uniform at 0.3 flits/node/cycle for 100k measured cycles,
# and the LeNet-5 training-step test (8×8, batch 16).   usage: scripts/bench_mesh.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date +%s.%N)
"$build/bpsim" run "$here/configs/examples/mesh_synthetic_uniform.yaml" --out "$out" --force --quiet \
  --set accelerator.traffic.warmup_cycles=0 >/dev/null
end=$(date +%s.%N)
python3 - "$out/report.json" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = float(sys.argv[3]) - float(sys.argv[2])
print(f"synthetic 8x8 @0.3: {r['totals']['cycles']} cycles in {s:.2f} s = {r['totals']['cycles']/s/1e3:.0f} kcycles/s, "
      f"latency {r['network']['avg_packet_latency_cycles']:.1f}, accepted {r['network']['accepted_rate']:.3f}")
PY
"$build/bpsim_tests" "mesh model: LeNet-5 training step on 8x8 through the SystemC shell" 2>&1 | grep -E "training step|passed|failed" || true
