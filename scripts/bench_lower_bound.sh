#!/usr/bin/env bash
# DRAM traffic of every GEMM against its floor: runs the ResNet-50 and GPT-2 training steps
# (configs/workloads, their own batch, in bf16) on the two bf16 systolic presets and prints, per run, the
# distribution of operand DRAM bytes / max(compulsory bytes, lower bound) over the GEMMs
# (report.json's per-op extra.dram_floor: the bound for split buffers with fp32 partial sums;
# docs/systolic.md, "DRAM traffic and its lower bound"), how many GEMMs meet the 1.5x target,
# the worst GEMM and how many mappings pin a slice or keep the output single buffered. Exit 0 whatever the figures.
#   scripts/bench_lower_bound.sh [BUILD_DIR] [--set key=value ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
inc="$root/configs/memory/ddr4_2400.yaml, $root/configs/energy/45nm.yaml, $root/configs/energy/45nm/systolic.yaml"
for arch in systolic_32x32_bf16 systolic_128x128_bf16; do
  for net in resnet50 gpt2_small; do
    name="${net}_$arch"
    printf 'include: [%s, %s]\nworkload: { spec: %s, dtype: bf16 }\n' "$root/configs/arch/$arch.yaml" "$inc" \
      "$root/configs/workloads/$net.yaml" > "$work/$name.yaml"
    "$build/bpsim" run "$work/$name.yaml" --out "$work/$name" --quiet "$@" > /dev/null
    /usr/bin/python3 - "$work/$name/report.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
gemms = [o for o in r["ops"] if "dram_floor" in o.get("extra", {})]
f = [o["extra"]["dram_floor"] for o in gemms]
worst = max(gemms, key=lambda o: o["extra"]["dram_floor"]["ratio"])
pinned = sum(o["extra"]["mapping"].get("family") == "pinned_slice" for o in gemms)
single = sum(o["extra"]["mapping"].get("output_buffer") == "single" for o in gemms)
x = sorted(d["ratio"] for d in f)
moved = sum(d["operand_dram_bytes"] for d in f)
# A single-buffered output lives outside the usable-halves model: its floor is the whole chip's.
floor = sum(max(d["compulsory_bytes"], d["chip_lower_bound_bytes" if o["extra"]["mapping"].get("output_buffer")
                                          == "single" else "lower_bound_bytes"]) for o, d in zip(gemms, f))
q = lambda p: x[min(len(x) - 1, int(p * len(x)))]
print(f"{sys.argv[2]}: {len(x)} GEMMs, DRAM/floor min {x[0]:.2f} p50 {q(0.5):.2f} p90 {q(0.9):.2f} "
      f"max {x[-1]:.2f}; within 1.5x: {sum(v <= 1.5 for v in x)}/{len(x)}; "
      f"all GEMMs {moved / 1e9:.2f} GB vs floor {floor / 1e9:.2f} GB ({moved / floor:.2f}x); "
      f"worst {worst['name']}; pinned slices {pinned}; single-buffered outputs {single}")
PY
  done
done
