#!/usr/bin/env bash
# Compares bpsim's `timing: scalesim` compute cycles and ifmap DRAM bytes with SCALE-Sim v2
# on a few conv and GEMM layers, for ws, os and is, and times both; then AlexNet Conv1 (ws)
# with 64 KiB buffers, SCALE-Sim's default config. Downloads nothing: pass a checkout of
# github.com/scalesim-project/scale-sim-v2 (kept outside this repository) and a build dir.
#   scripts/compare_scalesim.sh PEER_DIR [BUILD_DIR] [ARRAY]   (ARRAY: 32 → 32×32)
# Needs Debian's python3-numpy python3-pandas python3-tqdm python3-absl for the peer.
# Per layer set it also prints both tools' wall and CPU seconds and their ratios as processes:
# SCALE-Sim's run against the median of BPSIM_REPEAT (default 20) more runs of `bpsim run`
# (scripts/time_process.py: each a process of its own, its files written, timed by rusage).
# IN_PROCESS=PYTHON (an interpreter with the bpsim package: README "Python"): also times the
# same layer sets run in-process (scripts/bench_inprocess.py, reports checked byte for byte
# against the CLI's) and prints SCALE-Sim's time over that, per dataflow.
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

# Both buffers hold every operand (8 MiB), so SCALE-Sim's ifmap DRAM reads are the distinct
# ifmap addresses its operand matrix names, bpsim's the line buffer's unique bytes.
printf '%-8s %-3s %12s %12s %6s  %12s %12s %6s\n' layer df scalesim bpsim match ifmap_ss ifmap_bp match
total_peer=0; total_bpsim=0; mismatches=0; speed_rows=()
declare -A peer_df peer_cpu groups
for topo in conv gemm; do
  mnk=$([ "$topo" = gemm ] && echo gemm || echo conv)
  for df in ws os is; do
    sed -e "s/^ArrayHeight:.*/ArrayHeight: $array/; s/^ArrayWidth:.*/ArrayWidth: $array/" \
        -e "s/^IfmapSramSzkB:.*/IfmapSramSzkB: 8192/; s/^FilterSramSzkB:.*/FilterSramSzkB: 8192/" \
        -e "s/^OfmapSramSzkB:.*/OfmapSramSzkB: 8192/; s/^Dataflow.*/Dataflow : $df/" \
        "$peer/configs/scale.cfg" > "$work/$df.cfg"
    t0=$(date +%s.%N)
    # The peer's CPU seconds too (user + system, bash's time keyword): on a loaded machine
    # wall time is mostly waiting for a core, for the short in-process runs most of all.
    TIMEFORMAT='%U %S'
    cpu=$( { time (cd "$work" && PYTHONPATH="$peer" "$py" "$peer/scalesim/scale.py" -c "$df.cfg" -t "$topo.csv" \
        -p "log_${topo}_$df" -i "$mnk" > "scalesim_${topo}_$df.txt" 2>&1) ; } 2>&1 )
    t1=$(date +%s.%N)
    peer_df[$df]=$(echo "${peer_df[$df]:-0} + $t1 - $t0" | bc)
    peer_cpu[$df]=$(echo "${peer_cpu[$df]:-0} + ${cpu% *} + ${cpu#* }" | bc)
    cat > "$work/run_${topo}_$df.yaml" <<YAML
include: [$root/configs/memory/ddr4_2400.yaml, $root/configs/energy/45nm.yaml, $root/configs/energy/45nm/systolic.yaml]
accelerator: { kind: systolic, rows: $array, cols: $array, dataflow: $df, timing: scalesim, dtype: int8,
               sram: { input_kib: 8192, weight_kib: 8192, output_kib: 8192 } }
workload: { scalesim: $work/$topo.csv }
YAML
    "$build/bpsim" run "$work/run_${topo}_$df.yaml" --out "$work/out_${topo}_$df" --force --quiet
    groups[$df]+="${groups[$df]:+,}$work/run_${topo}_$df.yaml@$work/out_${topo}_$df/report.json"
    t2=$(date +%s.%N)
    total_peer=$(echo "$total_peer + $t1 - $t0" | bc); total_bpsim=$(echo "$total_bpsim + $t2 - $t1" | bc)
    read -r bp_wall bp_cpu < <("$py" "$root/scripts/time_process.py" "${BPSIM_REPEAT:-20}" "$build/bpsim" run \
        "$work/run_${topo}_$df.yaml" --out "$work/rep_${topo}_$df" --force --quiet)
    ss_wall=$(echo "$t1 - $t0" | bc); ss_cpu=$(echo "${cpu% *} + ${cpu#* }" | bc)
    speed_rows+=("$(printf '%-5s %-3s %8.2f %7.2f %9.2f %8.2f %7.0fx %7.0fx' "$topo" "$df" "$ss_wall" "$ss_cpu" \
        "$(echo "$bp_wall * 1000" | bc)" "$(echo "$bp_cpu * 1000" | bc)" "$(echo "$ss_wall / $bp_wall" | bc -l)" \
        "$(echo "$ss_cpu / $bp_cpu" | bc -l)")")
    logdir="$work/log_${topo}_$df"
    mismatches=$((mismatches + $("$py" "$root/scripts/compare_scalesim_report.py" "$logdir" \
        "$work/out_${topo}_$df/report.json" "$df" exact)))
  done
done 2>&1
# AlexNet Conv1 (SCALE-Sim's topologies/conv_nets/alexnet.csv, first row) on ws with 64 KiB
# buffers. The ifmap (150528 bytes) does not fit: bpsim's line buffer reads, per row fold,
# the distinct ifmap bytes of its 32 columns, once per column fold; SCALE-Sim counts the
# misses of its ifmap buffer (sets of 1% of it, half active) over the same address stream.
# Printed, not counted as a mismatch: the two models of a small buffer differ (docs/systolic.md).
echo "AlexNet Conv1, ws, 64 KiB buffers (ifmap DRAM bytes: SCALE-Sim's buffer misses vs bpsim's line buffer):"
printf 'Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nalex_c1,224,224,11,11,3,96,4,\n' \
  > "$work/alex.csv"
sed -e "s/^ArrayHeight:.*/ArrayHeight: 32/; s/^ArrayWidth:.*/ArrayWidth: 32/; s/^Dataflow.*/Dataflow : ws/" \
    -e "s/^IfmapSramSzkB:.*/IfmapSramSzkB: 64/; s/^FilterSramSzkB:.*/FilterSramSzkB: 64/" \
    -e "s/^OfmapSramSzkB:.*/OfmapSramSzkB: 64/" "$peer/configs/scale.cfg" > "$work/alex.cfg"
(cd "$work" && PYTHONPATH="$peer" "$py" "$peer/scalesim/scale.py" -c alex.cfg -t alex.csv -p log_alex > scalesim_alex.txt 2>&1)
cat > "$work/run_alex.yaml" <<YAML
include: [$root/configs/memory/ddr4_2400.yaml, $root/configs/energy/45nm.yaml, $root/configs/energy/45nm/systolic.yaml]
accelerator: { kind: systolic, rows: 32, cols: 32, dataflow: ws, timing: scalesim, dtype: int8,
               sram: { input_kib: 64, weight_kib: 64, output_kib: 64 } }
workload: { scalesim: $work/alex.csv }
YAML
"$build/bpsim" run "$work/run_alex.yaml" --out "$work/out_alex" --force --quiet
{ mismatches=$((mismatches + $("$py" "$root/scripts/compare_scalesim_report.py" "$work/log_alex" \
    "$work/out_alex/report.json" ws cycles))); } 2>&1
echo "wall: SCALE-Sim ${total_peer}s, bpsim ${total_bpsim}s (both include process start)"
echo "speed ratio SCALE-Sim/bpsim: $(echo "scale=1; $total_peer / $total_bpsim" | bc)"
echo "mismatching layers: $mismatches"
echo "as processes, per layer set (SCALE-Sim: one run, s; bpsim: median of ${BPSIM_REPEAT:-20} runs, ms):"
printf '%-5s %-3s %8s %7s %9s %8s %8s %8s\n' set df ss_wall ss_cpu bp_wall bp_cpu wall_x cpu_x
printf '%s\n' "${speed_rows[@]}"
if [ -n "${IN_PROCESS:-}" ]; then
  # Each dataflow's two layer sets (conv, gemm) as one pass, in one Python process.
  "$IN_PROCESS" "$root/scripts/bench_inprocess.py" --repeat "${REPEAT:-20}" \
      "ws=${groups[ws]}" "os=${groups[os]}" "is=${groups[is]}" > "$work/inproc.txt"
  while read -r df secs cpu; do
    echo "in-process, $df: wall SCALE-Sim ${peer_df[$df]}s, bpsim ${secs}s per pass: $(echo "scale=0; ${peer_df[$df]} / $secs" | bc)x;" \
         "CPU SCALE-Sim ${peer_cpu[$df]}s, bpsim ${cpu}s: $(echo "scale=0; ${peer_cpu[$df]} / $cpu" | bc)x"
  done < "$work/inproc.txt"
fi
