#!/usr/bin/env bash
# Compares bpsim's `timing: scalesim` compute cycles with SCALE-Sim v2 on a few conv and
# GEMM layers, for ws, os and is, and times both. Downloads nothing: pass a checkout of
# github.com/scalesim-project/scale-sim-v2 (kept outside this repository) and a build dir.
#   scripts/compare_scalesim.sh PEER_DIR [BUILD_DIR] [ARRAY]   (ARRAY: 32 → 32×32)
# Needs Debian's python3-numpy python3-pandas python3-tqdm python3-absl for the peer.
set -euo pipefail
peer=${1:?usage: compare_scalesim.sh PEER_DIR [BUILD_DIR] [ARRAY]}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build}
array=${3:-32}
py=${PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

cat > "$work/conv.csv" <<'CSV'
Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
conv_a,28,28,3,3,32,64,1,
conv_b,14,14,3,3,64,128,2,
conv_c,8,8,1,1,256,96,1,
CSV
cat > "$work/gemm.csv" <<'CSV'
Layer,M,N,K,
gemm_a,256,128,512,
gemm_b,100,50,70,
CSV

printf '%-8s %-3s %12s %12s %6s\n' layer df scalesim bpsim match
total_peer=0; total_bpsim=0; mismatches=0
for topo in conv gemm; do
  mnk=$([ "$topo" = gemm ] && echo gemm || echo conv)
  for df in ws os is; do
    sed -e "s/^ArrayHeight:.*/ArrayHeight: $array/; s/^ArrayWidth:.*/ArrayWidth: $array/" \
        -e "s/^IfmapSramSzkB:.*/IfmapSramSzkB: 8192/; s/^FilterSramSzkB:.*/FilterSramSzkB: 8192/" \
        -e "s/^OfmapSramSzkB:.*/OfmapSramSzkB: 8192/; s/^Dataflow.*/Dataflow : $df/" \
        "$peer/configs/scale.cfg" > "$work/$df.cfg"
    t0=$(date +%s.%N)
    (cd "$work" && PYTHONPATH="$peer" "$py" "$peer/scalesim/scale.py" -c "$df.cfg" -t "$topo.csv" -p "log_${topo}_$df" \
        -i "$mnk" > "scalesim_${topo}_$df.txt" 2>&1)
    t1=$(date +%s.%N)
    cat > "$work/run_$df.yaml" <<YAML
include: [$root/configs/memory/ddr4_2400.yaml, $root/configs/energy/45nm.yaml, $root/configs/energy/45nm/systolic.yaml]
accelerator: { kind: systolic, rows: $array, cols: $array, dataflow: $df, timing: scalesim, dtype: int8,
               sram: { input_kib: 8192, weight_kib: 8192, output_kib: 8192 } }
workload: { scalesim: $work/$topo.csv }
YAML
    "$build/bpsim" run "$work/run_$df.yaml" --out "$work/out_${topo}_$df" --force --quiet
    t2=$(date +%s.%N)
    total_peer=$(echo "$total_peer + $t1 - $t0" | bc); total_bpsim=$(echo "$total_bpsim + $t2 - $t1" | bc)
    report=$(find "$work/log_${topo}_$df" -name COMPUTE_REPORT.csv | head -1)
    mismatches=$((mismatches + $("$py" - "$report" "$work/out_${topo}_$df/report.json" "$df" <<'PY'
import csv, json, sys
peer = [r for r in csv.reader(open(sys.argv[1])) if r and r[0].strip().isdigit()]
ops = json.load(open(sys.argv[2]))["ops"]
bad = 0
for row, op in zip(peer, ops):
    # SCALE-Sim reports the index of the last cycle: the cycle count minus one.
    sc = int(row[1]) + 1
    ours = op["extra"]["array_cycles"]
    bad += sc != ours
    print(f'{op["name"]:<8} {sys.argv[3]:<3} {sc:>12} {ours:>12} {"yes" if sc == ours else "NO":>6}', file=sys.stderr)
print(bad)
PY
)))
  done
done 2>&1
echo "wall: SCALE-Sim ${total_peer}s, bpsim ${total_bpsim}s (both include process start)"
echo "speed ratio SCALE-Sim/bpsim: $(echo "scale=1; $total_peer / $total_bpsim" | bc)"
echo "mismatching layers: $mismatches"
