#!/usr/bin/env bash
# Ambit's bulk bitwise throughput on Ambit's DDR3-1600 system, next to bpsim's.
# usage: scripts/compare_ambit.sh [BPSIM_EXE]
# Runs configs/examples/pim_ambit_ddr3.yaml twice (as shipped, and with obey_tfaw: false)
# and prints per operation, in GOps/s (one op = one bit of output):
#   derived  — bits per row × banks / latency of the op's row sequence (Ambit's sequences,
#              MICRO 2017), with AAP = tRAS + 4 ns + tRP and AP = tRAS + tRP in ns from the
#              preset's JEDEC timings (no four-activate window: every bank at full rate);
#   no tFAW  — bpsim with accelerator.obey_tfaw=false (timing rounded to whole tCK);
#   bpsim    — bpsim as shipped (every raised wordline counts toward tFAW).
# Ambit's per-operation figure (its Fig. 9) is not printed: its values were not available
# to read (docs/pim.md, "Validation against published figures", says what was checked).
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BPSIM=${1:-$HERE/build/bpsim}
CFG=$HERE/configs/examples/pim_ambit_ddr3.yaml
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
"$BPSIM" run "$CFG" -q -o "$WORK/tfaw" >/dev/null
"$BPSIM" run "$CFG" -q -o "$WORK/free" --set accelerator.obey_tfaw=false >/dev/null
python3 - "$WORK" "$HERE/configs/memory/ddr3_1600.yaml" <<'PY'
import json, re, sys
w = sys.argv[1]
shipped = json.load(open(w + "/tfaw/report.json"))
free = json.load(open(w + "/free/report.json"))
# The preset's numeric keys (one `key: number` per line; no YAML library needed).
mem = {k: float(v) for k, v in re.findall(r"^\s+(\w+):\s*([0-9.]+)", open(sys.argv[2]).read(), re.M)}
tck = mem["tck_ns"]
banks = int(mem["bank_groups"] * mem["banks_per_group"] * mem["ranks"] * mem["channels"])
lanes = int(mem["columns"] * mem["bus_width"])  # bits per row across the rank: columns × devices × width
tras, trp = mem["tras"] * tck, mem["trp"] * tck
aap, ap = tras + 4.0 + trp, tras + trp  # ns; Ambit's overlapped AAP: second ACT 4 ns after the first
seqs = {"and": (4, 0), "or": (4, 0), "nand": (5, 0), "nor": (5, 0), "xor": (5, 2), "xnor": (5, 2), "not": (2, 0)}
print(f"DDR3-1600 preset: tCK {tck} ns, {banks} banks, {lanes} bits per row; AAP {aap:.2f} ns, AP {ap:.2f} ns")
print(f"{'op':5} {'row seq':>10} {'ns/row':>8} {'derived':>9} {'no tFAW':>9} {'ratio':>6} {'bpsim':>9} {'ratio':>6}")
def gops(rep, name):
    op = next(o for o in rep["ops"] if o["name"] == name)
    return (1 << 20) / (op["cycles"] * tck)  # the trace's 2^20 bits per op
for name, (n_aap, n_ap) in seqs.items():
    lat = n_aap * aap + n_ap * ap
    derived = lanes * banks / lat
    f, s = gops(free, name), gops(shipped, name)
    seq = f"{n_aap} AAP" + (f"+{n_ap} AP" if n_ap else "")
    print(f"{name:5} {seq:>10} {lat:8.2f} {derived:9.1f} {f:9.1f} {f / derived:6.3f} {s:9.1f} {s / derived:6.3f}")
PY
