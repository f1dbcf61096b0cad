#!/usr/bin/env bash
# From a fresh Debian 12 machine: install packages, build, and run the flagship step, a
# ResNet-18 training step on the 32×32 bf16 systolic array with the ReLU masks power-gating
# its backward MACs and checkpointing (configs/examples/resnet18_train_gated.yaml); then the
# same step under no memory policy beside it, and what the difference means.
#   bash scripts/quickstart.sh [CONFIG.yaml]   another config: run it alone
# BPSIM=PATH runs that bpsim and skips setup and build; OUT=DIR puts the results there
# (default out/); docs/figures.json runs it so to keep README's copy of its output current.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BPSIM:-}" ]; then
  bash scripts/setup.sh
  bash scripts/build.sh
  BPSIM=./build/bpsim
fi
OUT=${OUT:-out}
FLAGSHIP=configs/examples/resnet18_train_gated.yaml
CONFIG=${1:-$FLAGSHIP}
NAME=$(basename "$CONFIG" .yaml)
"$BPSIM" run "$CONFIG" --out "$OUT/$NAME" --force
[ "$CONFIG" = "$FLAGSHIP" ] || exit 0

echo
echo "== the same step without checkpointing, and with it (bpsim compare)"
"$BPSIM" compare "$CONFIG" --policies none,checkpoint --no-plot --force --out "$OUT/compare_$NAME"
# compare.csv: policy,status,peak_bytes,saved_after_forward_bytes,dram_bytes,energy_pj,seconds,cycles,...
# and the gated MACs and the energy gating saved from the run's report.json (ops' extra).
python3 - "$OUT/compare_$NAME/compare.csv" "$OUT/$NAME/report.json" <<'PY'
import csv, json, sys
rows = {r["policy"]: r for r in csv.DictReader(open(sys.argv[1]))}
none, ck = rows["none"], rows["checkpoint"]
def ratio(key):
    return float(ck[key]) / float(none[key]) - 1
report = json.load(open(sys.argv[2]))
t = report["totals"]
print()
print("What it means:")
print(f"- checkpointing lowers the step's peak memory from {int(none['peak_bytes']) / 1e6:.0f} MB to "
      f"{int(ck['peak_bytes']) / 1e6:.0f} MB ({-100 * ratio('peak_bytes'):.0f}% less) by recomputing each "
      f"module's forward before its backward: {100 * ratio('seconds'):.0f}% more time and "
      f"{100 * ratio('energy_pj'):.0f}% more energy.")
saved = sum(o.get("extra", {}).get("energy_saved_by_gating_pj", 0) for o in report["ops"])
print(f"- the ReLU masks power-gate {100 * t['macs_gated'] / t['macs']:.1f}% of the step's MACs (the dX "
      f"outputs whose gradient the ReLU zeroes), saving {saved / 1e9:.1f} mJ, {100 * saved / t['energy_pj']:.1f}% of "
      f"the step's energy; gating saves energy, not time.")
print(f"- the run's report.json and ops.csv: {sys.argv[2].rsplit('/', 1)[0]}; the comparison: {sys.argv[1]}")
PY
