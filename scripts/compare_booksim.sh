#!/usr/bin/env bash
# Compares the mesh model's synthetic mode with BookSim2 on an 8×8 mesh (DOR, single-flit
# packets, uniform random): latency/throughput curve and speed at 0.3 flits/node/cycle for
# 100k cycles. Downloads nothing: pass a BookSim2 checkout built beside the project.
#   usage: scripts/compare_booksim.sh PEER_DIR [BPSIM_BIN]   (PEER_DIR/src/booksim must exist)
#   env:   VCS (default 2), RATES (default "0.05 0.1 0.15 0.2 0.25 0.28 0.3 0.32"), WINDOW (20000)
set -euo pipefail
peer=${1:?usage: compare_booksim.sh PEER_DIR [BPSIM_BIN]}
here=$(cd "$(dirname "$0")/.." && pwd)
bpsim=${2:-$here/build/bpsim}
booksim=$peer/src/booksim
[[ -x $booksim ]] || { echo "no BookSim binary at $booksim (cd $peer/src && make)" >&2; exit 2; }
[[ -x $bpsim ]] || { echo "no bpsim binary at $bpsim" >&2; exit 2; }
vcs=${VCS:-2}
rates=${RATES:-"0.05 0.1 0.15 0.2 0.25 0.28 0.3 0.32"}
window=${WINDOW:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# BookSim's iq router defaults: routing/VA/SA delay 1, st_final 1, channel latency 1.
cat > "$work/mesh88.cfg" <<CFG
topology = mesh;
k = 8;
n = 2;
routing_function = dor;
num_vcs = $vcs;
vc_buf_size = 8;
traffic = uniform;
packet_size = 1;
sim_type = latency;
CFG
cfg=$here/configs/examples/mesh_synthetic_uniform.yaml
bp_point() {  # rate warmup measure → "latency accepted seconds"
  local t0 t1
  t0=$(date +%s.%N)
  "$bpsim" run "$cfg" --out "$work/bp" --force --quiet --set accelerator.noc.vcs="$vcs" \
    --set accelerator.traffic.rate="$1" --set accelerator.traffic.warmup_cycles="$2" \
    --set accelerator.traffic.measure_cycles="$3" --set accelerator.traffic.drain_cycles=20000 >/dev/null
  t1=$(date +%s.%N)
  python3 -c "import json,sys; n=json.load(open('$work/bp/report.json'))['network']; print(round(n['avg_packet_latency_cycles'],2), round(n['accepted_rate'],4), round($t1-$t0,2))"
}
bs_point() {  # rate warmup_periods sample_period → "latency accepted seconds"
  local out t0 t1
  t0=$(date +%s.%N)
  out=$("$booksim" "$work/mesh88.cfg" injection_rate="$1" warmup_periods="$2" sample_period="$3" max_samples=1 2>&1 || true)
  t1=$(date +%s.%N)
  echo "$(echo "$out" | grep 'Packet latency average' | tail -1 | awk '{print $5}') \
$(echo "$out" | grep 'Accepted flit rate average' | tail -1 | sed 's/.*= *//;s/ .*//') $(python3 -c "print(round($t1-$t0,2))")"
}
echo "# 8x8 mesh, DOR, $vcs VCs x 8 flits, 1-flit packets, uniform; window $window cycles after a $window-cycle warm-up"
echo "# rate   bpsim_latency bpsim_accepted   booksim_latency booksim_accepted   latency_diff_%"
for r in $rates; do
  read -r bl ba _ <<<"$(bp_point "$r" "$window" "$window")"
  read -r kl ka _ <<<"$(bs_point "$r" 1 "$window")"
  echo "$r   $bl $ba   $kl $ka   $(python3 -c "print(round(100*($bl-$kl)/$kl,1))" 2>/dev/null || echo n/a)"
done
echo "# speed: 0.3 flits/node/cycle, 100k measured cycles (no warm-up), wall seconds"
read -r _ _ bs <<<"$(bp_point 0.3 0 100000)"
read -r _ _ ks <<<"$(bs_point 0.3 0 100000)"
echo "bpsim ${bs}s  booksim ${ks}s  speedup $(python3 -c "print(round($ks/$bs,2))")"
