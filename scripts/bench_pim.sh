#!/usr/bin/env bash
# Benchmark of the pim model: the binary MLP 784-4096-4096-10 training step at batch 256
# (configs/examples/binary_mlp_pim.yaml) through `bpsim run`. Target: < 1 s wall.
# Prints the wall time of the run, the simulated DRAM time, and the bytes over the DRAM
# interface against a host that reads the operands over the bus.
# Usage: scripts/bench_pim.sh [build-dir]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
cmake --build "$build" --target bpsim -j2 >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
start=$(date +%s.%N)
"$build/bpsim" run "$root/configs/examples/binary_mlp_pim.yaml" -q -o "$out/run" --force
end=$(date +%s.%N)
python3 - "$out/run/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["stats"]["pim"]
cyc, ghz = p["cycles"], r["clock_ghz"]
i = p["interface"]
util = [o["extra"]["lane_utilization"] for o in r["ops"] if not o["extra"]["host_work"] and "tiles" in o["extra"]]
print(f"simulated: {cyc} cycles = {cyc / ghz / 1e6:.3f} ms of DRAM time")
print(f"interface: {i['read_bytes'] + i['write_bytes']} B; host baseline: "
      f"{i['host_baseline_read_bytes'] + i['host_baseline_write_bytes']} B")
dram_ops = [o for o in r["ops"] if not o["extra"]["host_work"]]
hb = lambda o: o["extra"]["host_baseline"]["read_bytes"] + o["extra"]["host_baseline"]["write_bytes"]
print(f"ops computed in DRAM ({len(dram_ops)}): interface {sum(o['extra']['interface_bytes'] for o in dram_ops)} B; "
      f"a host computing them would move {sum(hb(o) for o in dram_ops)} B")
print(f"in-DRAM GEMM ops: {len(util)}, lane utilisation min {min(util):.3f} max {max(util):.3f}")
PY
echo "wall (bpsim run, incl. start-up): $(echo "$end - $start" | bc) s"
