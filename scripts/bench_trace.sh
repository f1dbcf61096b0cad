#!/usr/bin/env bash
# Trace replay benchmark: generates synthetic traces (scripts/gen_trace.py) of the given op
# counts, replays each on the 32×32 systolic array (streamed: traces/README.md), and prints
# wall time, CPU time (user + system: the figure to read on a loaded machine), ops/s by
# wall, peak RSS (the child's ru_maxrss, read by python3: no GNU time needed) and the sizes of report.json and ops.csv. Target (issue
# 22): 1 000 000 ops in 3 s or less on a quiet machine, peak RSS 64 MiB or less, not growing
# with the op count. $BENCH_REPEAT (default 1) runs each count that many times and prints
# the best wall time (and that run's other figures); extra bpsim arguments come from
# $BENCH_ARGS, e.g. BENCH_ARGS="--set run.report_ops=all" for the report with every op entry.
#   usage: scripts/bench_trace.sh [BUILD_DIR] [OP_COUNTS...]   (default: build 100000 1000000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100000 1000000)
repeat="${BENCH_REPEAT:-1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/sys.yaml" <<YAML
include: [$root/configs/arch/systolic_32x32_int8.yaml, $root/configs/memory/ddr4_2400.yaml,
          $root/configs/energy/45nm.yaml, $root/configs/energy/45nm/systolic.yaml]
accelerator: { dtype: workload }
run: { seed: 1 }
YAML
printf "%10s %10s %10s %12s %14s %12s %10s\n" ops wall_s cpu_s ops_per_s peak_rss_mib report_mib csv_mib
for n in "${counts[@]}"; do
  /usr/bin/python3 "$root/scripts/gen_trace.py" "$n" "$work/t.jsonl"
  best=""
  for _ in $(seq "$repeat"); do
    rm -rf "$work/out"
    # Wall, CPU (user + system) and peak RSS of the run, from the child's rusage.
    # shellcheck disable=SC2086
    read -r wall cpu rss < <(python3 "$root/scripts/time_process.py" --rss --digits 3 1 "$build/bpsim" run \
      "$work/sys.yaml" --quiet --trace "$work/t.jsonl" --out "$work/out" ${BENCH_ARGS:-})
    rep=$(du -m "$work/out/report.json" | cut -f1)
    csv=$(du -m "$work/out/ops.csv" | cut -f1)
    if [ -z "$best" ] || awk -v a="$wall" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
      best="$wall $cpu $rss $rep $csv"
    fi
  done
  read -r wall cpu rss rep csv <<<"$best"
  awk -v n="$n" -v w="$wall" -v c="$cpu" -v r="$rss" -v m="$rep" -v k="$csv" \
    'BEGIN { printf "%10d %10.2f %10.2f %12.0f %14d %12d %10d\n", n, w, c, n / w, r, m, k }'
done
