#!/usr/bin/env bash
# Compares the mesh model's synthetic mode with BookSim2 on an 8×8 mesh (DOR, single-flit
# packets, uniform random, BookSim's iq router with iSLIP allocators): the saturation rate of
# each simulator, found the same way for both, and latency at 0.1, 0.3 and 0.9 × BookSim2's
# saturation rate. Downloads nothing: pass a BookSim2 checkout built beside the project.
#   usage: scripts/compare_booksim.sh PEER_DIR [BPSIM_BIN]   (PEER_DIR/src/booksim must exist)
#   env:   CONFIG  issue18 (default): 8 VCs × 8 flits, wait_for_tail_credit, input speedup 2;
#                  basic: 2 VCs × 8 flits, VCs freed at the tail's switch grant, no speedup
#                  (BookSim's defaults); VCS overrides the VC count of either
#          WINDOW  measured cycles per point, after a warm-up as long (default 10000)
#          RATES   extra offered rates to print a latency/throughput row for (default none)
#          SPEED=1 also time both on the same SPEED_CYCLES (default 100k, no warm-up) at each rate of
#                  SPEED_RATES (default "0.1 0.34", issue #22's two points): best wall and
#                  best CPU (user + sys) seconds of SPEED_REPEAT runs (default 3) each, and
#                  BookSim2's time over bpsim's (CPU time is the steadier on a loaded machine)
#          SPEED_ONLY=1 skip the latency and saturation comparison (with SPEED=1)
# Saturation (both simulators): a rate is saturated when the mean packet latency exceeds
# 3× the zero-load latency (measured at 0.01 flits/node/cycle), or accepted < 0.95 × offered,
# or the simulator gives up (BookSim2 stops past its latency threshold). The saturation rate
# is the boundary found by bisection between 0.05 and 0.65 to within 0.005 flits/node/cycle.
set -euo pipefail
peer=${1:?usage: compare_booksim.sh PEER_DIR [BPSIM_BIN]}
here=$(cd "$(dirname "$0")/.." && pwd)
bpsim=${2:-$here/build/bpsim}
booksim=$peer/src/booksim
[[ -x $booksim ]] || { echo "no BookSim binary at $booksim (cd $peer/src && make)" >&2; exit 2; }
[[ -x $bpsim ]] || { echo "no bpsim binary at $bpsim" >&2; exit 2; }
config=${CONFIG:-issue18}
case $config in
  issue18) vcs=${VCS:-8} tail=1 speedup=2 ;;
  basic) vcs=${VCS:-2} tail=0 speedup=1 ;;
  *) echo "CONFIG must be issue18 or basic (it is $config)" >&2; exit 2 ;;
esac
window=${WINDOW:-10000}
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
wait_for_tail_credit = $tail;
input_speedup = $speedup;
vc_allocator = islip;
sw_allocator = islip;
traffic = uniform;
packet_size = 1;
sim_type = latency;
CFG
cfg=$here/configs/examples/mesh_synthetic_uniform.yaml
tailb=$([[ $tail == 1 ]] && echo true || echo false)
timed() {  # CMD... → runs it, its output to $work/out; "wall cpu" seconds (cpu: user + sys) to $work/time
  python3 -c 'import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), stderr=subprocess.STDOUT)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{time.monotonic() - t:.2f} {u.ru_utime + u.ru_stime:.2f}", file=open(sys.argv[1] + ".time", "w"))' \
    "$work/out" "$@"
  mv "$work/out.time" "$work/time"
}
bp_point() {  # rate warmup measure → "latency accepted wall_s cpu_s" (latency "-" if not drained)
  timed "$bpsim" run "$cfg" --out "$work/bp" --force --quiet --set accelerator.noc.vcs="$vcs" \
    --set accelerator.noc.wait_for_tail_credit="$tailb" --set accelerator.noc.input_speedup="$speedup" \
    --set accelerator.traffic.rate="$1" --set accelerator.traffic.warmup_cycles="$2" \
    --set accelerator.traffic.measure_cycles="$3" --set accelerator.traffic.drain_cycles=20000
  python3 -c "import json; n=json.load(open('$work/bp/report.json'))['network']; \
print(round(n['avg_packet_latency_cycles'],2) if n['packets'] else '-', round(n['accepted_rate'],4))" | tr '\n' ' '
  cat "$work/time"
}
bs_point() {  # rate warmup_periods sample_period → "latency accepted wall_s cpu_s" ("-" when it gives up)
  local lat acc
  timed "$booksim" "$work/mesh88.cfg" injection_rate="$1" warmup_periods="$2" sample_period="$3" max_samples=1
  lat=$(grep 'Packet latency average' "$work/out" | tail -1 | awk '{print $5}')
  acc=$(grep 'Accepted flit rate average =' "$work/out" | tail -1 | sed 's/.*= *//;s/ .*//')
  echo "${lat:--} ${acc:--} $(cat "$work/time")"
}
saturated() {  # rate latency accepted zero_load → exit 0 when saturated
  python3 -c "import sys; r,l,a,z=sys.argv[1:]; sys.exit(0 if l=='-' or a=='-' or float(l)>3*float(z) \
or float(a)<0.95*float(r) else 1)" "$@"
}
saturation() {  # point_function zero_load → saturation rate
  local lo=0.05 hi=0.65 mid l a
  while python3 -c "import sys; sys.exit(0 if $hi-$lo>0.005 else 1)"; do
    mid=$(python3 -c "print(round(($lo+$hi)/2,5))")
    read -r l a _ <<<"$($1 "$mid")"
    if saturated "$mid" "$l" "$a" "$2"; then hi=$mid; else lo=$mid; fi
  done
  python3 -c "print(round(($lo+$hi)/2,4))"
}
pct() { python3 -c "import sys; a,b=sys.argv[1:]; print('n/a' if '-' in (a,b) else round(100*(float(a)-float(b))/float(b),1))" "$@"; }
bp_at() { bp_point "$1" "$window" "$window"; }
bs_at() { bs_point "$1" 1 "$window"; }

if [[ ${SPEED_ONLY:-0} != 1 ]]; then
echo "# 8x8 mesh, DOR, $vcs VCs x 8 flits, wait_for_tail_credit $tail, input_speedup $speedup, iSLIP VA and SA,"
echo "# 1-flit packets, uniform random; $window measured cycles after a $window-cycle warm-up (CONFIG=$config)"
read -r bz _ _ <<<"$(bp_at 0.01)"
read -r kz _ _ <<<"$(bs_at 0.01)"
echo "zero-load latency (0.01 flits/node/cycle): bpsim $bz  booksim $kz  diff_% $(pct "$bz" "$kz")"
bsat=$(saturation bp_at "$bz")
ksat=$(saturation bs_at "$kz")
echo "saturation rate (latency > 3x zero-load or accepted < 0.95x offered): bpsim $bsat  booksim $ksat  diff_% $(pct "$bsat" "$ksat")"
echo "# fraction_of_booksim_saturation rate   bpsim_latency bpsim_accepted   booksim_latency booksim_accepted   latency_diff_%"
for f in 0.1 0.3 0.9; do
  r=$(python3 -c "print(round($f*$ksat,4))")
  read -r bl ba _ <<<"$(bp_at "$r")"
  read -r kl ka _ <<<"$(bs_at "$r")"
  echo "$f $r   $bl $ba   $kl $ka   $(pct "$bl" "$kl")"
done
for r in ${RATES:-}; do
  read -r bl ba _ <<<"$(bp_at "$r")"
  read -r kl ka _ <<<"$(bs_at "$r")"
  echo "- $r   $bl $ba   $kl $ka   $(pct "$bl" "$kl")"
done
fi
if [[ ${SPEED:-0} == 1 ]]; then
  best() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
  echo "# speed: ${SPEED_CYCLES:-100000} measured cycles (no warm-up), best of ${SPEED_REPEAT:-3} (CONFIG=$config), seconds"
  echo "# rate   bpsim_wall booksim_wall booksim/bpsim   bpsim_cpu booksim_cpu booksim/bpsim"
  for r in ${SPEED_RATES:-0.1 0.34}; do
    bw=() kw=() bc=() kc=()
    for _ in $(seq "${SPEED_REPEAT:-3}"); do
      read -r _ _ w c <<<"$(bp_point "$r" 0 "${SPEED_CYCLES:-100000}")"
      bw+=("$w") bc+=("$c")
      read -r _ _ w c <<<"$(bs_point "$r" 0 "${SPEED_CYCLES:-100000}")"
      kw+=("$w") kc+=("$c")
    done
    w1=$(best "${bw[@]}") w2=$(best "${kw[@]}") c1=$(best "${bc[@]}") c2=$(best "${kc[@]}")
    echo "$r   $w1 $w2 $(python3 -c "print(round($w2/$w1,1))")   $c1 $c2 $(python3 -c "print(round($c2/$c1,1))")"
  done
fi
