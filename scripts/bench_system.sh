#!/usr/bin/env bash
# Speed of system.parallel (docs/system.md "Parallelism"): wall time of `bpsim run` for
# (1) a data-parallel GPT-2-small step on 1,024 devices (configs/examples/gpt2_data_parallel.yaml;
# target ≤ 1 s: one device is simulated, the all-reduces priced per bucket), (2) a 16-device
# pipeline (configs/examples/gpt2_pipeline_1f1b.yaml; target ≤ 2 s), (3) tensor parallelism
# over 4 (configs/examples/gpt2_tensor_parallel.yaml); then the data-parallel scaling table,
# 1 → 1,024 devices at the example's batch 1024 (each device batch 1024/D): step time,
# communication share and exposed share.
#   scripts/bench_system.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

# timed LABEL CONFIG [--set ...]: runs CONFIG and prints its step figures, its wall time and
# its CPU time (user + system, the forked device simulation included: a loaded machine
# stretches the wall time, not this).
timed() {
  local label=$1 config=$2 t0 t1 cpu
  shift 2
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$work/$label.time" "$build/bpsim" run "$config" --out "$work/$label" --quiet "$@" > /dev/null
  t1=$(date +%s.%N)
  cpu=$(awk '{print $1 + $2}' "$work/$label.time")
  /usr/bin/python3 - "$work/$label/report.json" "$label" "$(echo "$t1 - $t0" | bc)" "$cpu" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["system"]
# One device without parallelism is an ordinary system run: no `parallel` object.
p = s.get("parallel", {"data": 1, "pipeline": 1, "tensor": 1, "microbatches": 1, "step_s": s["step_s"],
                       "communication_share": 0, "exposed_share": 0})
print(f"{sys.argv[2]}: D={p['data']} P={p['pipeline']} T={p['tensor']} M={p['microbatches']}, "
      f"step {p['step_s'] * 1e3:.3f} ms, communication {100 * p['communication_share']:.1f}% "
      f"(exposed {100 * p['exposed_share']:.1f}%), wall {float(sys.argv[3]):.2f} s, cpu {float(sys.argv[4]):.2f} s")
PY
}

ex=$root/configs/examples
timed dp1024 "$ex/gpt2_data_parallel.yaml"
timed pp16 "$ex/gpt2_pipeline_1f1b.yaml"
timed tp4 "$ex/gpt2_tensor_parallel.yaml"
echo "data-parallel scaling, GPT-2-small, batch 1024 (ring all-reduce, 25 MB buckets, overlapped):"
for d in 1 2 4 8 16 32 64 128 256 512 1024; do
  timed "dp$d" "$ex/gpt2_data_parallel.yaml" --set system.devices.npu.count=$d --set system.parallel.data=$d
done
