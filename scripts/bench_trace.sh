#!/usr/bin/env bash
# Trace replay benchmark: generates synthetic traces (scripts/gen_trace.py) of the given op
# counts, replays each on the 32×32 systolic array (streamed: traces/README.md), and prints
# wall time, ops/s, peak RSS (/usr/bin/time -v) and report size. Target (issue 8):
# 1 000 000 ops in under 30 s, memory not growing with the op count.
#   usage: scripts/bench_trace.sh [BUILD_DIR] [OP_COUNTS...]   (default: build 100000 1000000)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100000 1000000)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/sys.yaml" <<YAML
include: [$root/configs/arch/systolic_32x32_int8.yaml, $root/configs/memory/ddr4_2400.yaml,
          $root/configs/energy/45nm.yaml, $root/configs/energy/45nm/systolic.yaml]
accelerator: { dtype: workload }
run: { seed: 1 }
YAML
printf "%10s %10s %12s %14s %12s\n" ops wall_s ops_per_s peak_rss_mib report_mib
for n in "${counts[@]}"; do
  /usr/bin/python3 "$root/scripts/gen_trace.py" "$n" "$work/t.jsonl"
  rm -rf "$work/out"
  /usr/bin/time -v "$build/bpsim" run "$work/sys.yaml" --quiet --trace "$work/t.jsonl" --out "$work/out" \
    >/dev/null 2>"$work/time.txt"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$work/time.txt")
  rep=$(du -m "$work/out/report.json" | cut -f1)
  awk -v n="$n" -v w="$wall" -v r="$rss" -v m="$rep" 'BEGIN { printf "%10d %10.2f %12.0f %14d %12d\n", n, w, n / w, r, m }'
done
