#!/usr/bin/env bash
# Times `bpsim workload` (parse + build the training-step graph + liveness accounting +
# table) for the large ready-made specs, best of five runs each, with the graph's size and memory.
# Usage: scripts/bench_workload.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bpsim="${1:-$root/build}/bpsim"
[ -x "$bpsim" ] || { echo "no bpsim at $bpsim (build it first)" >&2; exit 1; }
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
run() {  # spec, extra args…
  local spec="$1"; shift
  local best=""
  for _ in 1 2 3 4 5; do
    local t0 t1
    t0=$(date +%s.%N); "$bpsim" workload "$root/configs/workloads/$spec" "$@" > /dev/null; t1=$(date +%s.%N)
    local dt; dt=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || (( $(echo "$dt < $best" | bc -l) )); then best=$dt; fi
  done
  local summary
  summary=$("$bpsim" workload "$root/configs/workloads/$spec" "$@" | grep -E "ops, policy|saved_after|peak" | tr '\n' ' ')
  printf "%-18s %-34s best of 5: %.3f s   %s\n" "$spec" "$*" "$best" "$summary"
}
run gpt2_small.yaml
run gpt2_small.yaml --policy checkpoint
run resnet50.yaml
run resnet50.yaml --policy checkpoint_sequential --segments 4
run resnet18.yaml
# The 1-billion-parameter specs (#21: bpsim workload on them in at most 0.2 s).
run llama_1b.yaml
run llama_1b.yaml --policy checkpoint
run gpt_1b.yaml
run gpt_1b.yaml --policy checkpoint
