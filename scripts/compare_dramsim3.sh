#!/usr/bin/env bash
# Compares bpsim's DRAM model with DRAMsim3 on the same DDR4-2400 x8 device and patterns.
# usage: scripts/compare_dramsim3.sh DRAMSIM3_DIR [BPSIM_EXE]
#   DRAMSIM3_DIR: a DRAMsim3 checkout built with cmake (build/dramsim3main), outside this
#   project; nothing is downloaded here.
# The peer runs its configs/DDR4_8Gb_x8_2400.ini. That file is dual-rank: DRAMsim3 derives
# ranks = channel_size / (page 1 KiB × 64 Ki rows × 16 banks × 8 devices) = 16384 / 8192 MB
# = 2, like bpsim's ddr4_2400 preset. bpsim is set to the ini's exact timing (its speed bin
# is 17-17-17 with CWL 12, tCK 0.83 ns, tREFI 9360, tWR 18, tRTRS 1; the preset is the
# 16-16-16 bin) and to its address mapping rochrababgco (MSB→LSB), i.e. RoChRaBaBgCo.
# Four patterns: saturating (requests offered as fast as accepted) and paced (one request
# per 8 cycles, 9.64 GB/s) streams of 64 B reads, and the same for uniformly random
# addresses with one write in three (DRAMsim3's random CPU draws writes with p = 1/3).
# Saturated latencies differ by design: DRAMsim3 holds 32 transactions plus 8 commands per
# bank in flight, bpsim 32 requests per channel, so by Little's law its queueing is shorter;
# compare latency on the paced runs. DRAMsim3 reports read latency, bpsim all requests.
# Speed: each simulator's process is timed $REPEAT times (default 3) and the best is kept,
# as wall-clock and as CPU time (user + system, steadier on a shared machine); the ratio is
# DRAMsim3's time over bpsim's. Issue #22's figures: N=1000000.
set -euo pipefail
PEER=$(cd "${1:?usage: $0 DRAMSIM3_DIR [BPSIM_EXE]}" && pwd)
HERE=$(cd "$(dirname "$0")/.." && pwd)
BPSIM=$(realpath "${2:-$HERE/build/bpsim}")  # absolute: the runs start in scratch folders
N=${N:-200000}
REPEAT=${REPEAT:-3}
TCK=0.83
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
INI="$PEER/configs/DDR4_8Gb_x8_2400.ini"
SETS=(--set memory.mapping=RoChRaBaBgCo --set memory.cl=17 --set memory.trcd=17 --set memory.trp=17
      --set memory.trc=56 --set memory.cwl=12 --set memory.tck_ns=$TCK --set memory.trefi=9360
      --set memory.twr=18 --set memory.trtrs=1 --set accelerator.requests=$N)
PACED_RATE=$(python3 -c "print(1 / (8 * $TCK))")  # requests per ns: one per 8 cycles
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

timed() {  # dir command… → "best_wall_s best_cpu_s" over $REPEAT runs in dir (stdout dropped)
  python3 - "$REPEAT" "$@" <<'PY'
import resource, subprocess, sys, time
reps, cwd, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
walls, cpus = [], []
for _ in range(reps):
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    walls.append(t1 - t0)
    cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
print(f"{min(walls):.3f} {min(cpus):.3f}")
PY
}

peer_run() {  # name cycles dramsim3-args… → "bandwidth_GBps read_latency_ns wall_s cpu_s" (completed requests)
  local name=$1 cycles=$2; shift 2
  mkdir -p "$WORK/$name"
  local times
  times=$(timed "$WORK/$name" "$PEER/build/dramsim3main" "$INI" "$@" -c "$cycles" -o "$WORK/$name")
  python3 - "$WORK/$name" "$TCK" "$times" <<'PY'
import json, sys
c = json.load(open(sys.argv[1] + "/dramsim3.json"))["0"]  # not dramsim3epoch.json
tck = float(sys.argv[2])
done = c["num_reads_done"] + c["num_writes_done"]
print(round(done * 64 / (c["num_cycles"] * tck), 3), round(c["average_read_latency"] * tck, 1), sys.argv[3])
PY
}

bpsim_run() {  # config extra-args… → "bandwidth_GBps latency_ns wall_s cpu_s"
  local cfg=$1 times; shift
  times=$(timed "$WORK" "$BPSIM" run "$cfg" --quiet --force --out "$WORK/b" "${SETS[@]}" "$@")
  python3 -c "import json;e=json.load(open('$WORK/b/report.json'))['ops'][0]['extra'];print(round(e['achieved_bandwidth_gbps'],3), round(e['avg_latency_ns'],1), '$times')"
}

row() {  # label peer-bw peer-lat peer-wall peer-cpu bpsim-bw bpsim-lat bpsim-wall bpsim-cpu
  python3 -c "print(f'{\"$1\":16s} DRAMsim3 {$2:7.3f} GB/s {$3:6.1f} ns | bpsim {$6:7.3f} GB/s {$7:6.1f} ns | bandwidth {100*($6-$2)/$2:+5.1f} %')
print(f'{\"\":16s} speed: DRAMsim3 {$4:.2f} s wall {$5:.2f} s CPU | bpsim {$8:.2f} s wall {$9:.2f} s CPU | bpsim {$4/$8:.1f}x faster (CPU {$5/$9:.1f}x), $N requests, best of $REPEAT')"
}

# Traces: addresses and cycles (DRAMsim3's trace CPU adds a request once its cycle is due).
python3 - "$WORK" "$N" <<'PY'
import random, sys
work, n = sys.argv[1], int(sys.argv[2])
r = random.Random(1)
with open(work + "/stream.trace", "w") as f:
    for i in range(n): f.write("0x%x READ 0\n" % (i * 64))
with open(work + "/stream_paced.trace", "w") as f:
    for i in range(n): f.write("0x%x READ %d\n" % (i * 64, i * 8))
with open(work + "/random_paced.trace", "w") as f:
    for i in range(n):
        f.write("0x%x %s %d\n" % (r.randrange(1 << 28) * 64, "WRITE" if r.random() < 1 / 3 else "READ", i * 8))
PY

# Saturating runs stop after 4 cycles per request (the bus bound, 6 for random), so both
# sides count what completed in steady state; paced runs last 8 cycles per request.
read -r pb pl pw pc < <(peer_run stream $((N * 4)) -t "$WORK/stream.trace")
read -r bb bl bw bc < <(bpsim_run "$HERE/configs/examples/ddr4_stream.yaml")
row "stream" "$pb" "$pl" "$pw" "$pc" "$bb" "$bl" "$bw" "$bc"
read -r pb pl pw pc < <(peer_run random $((N * 6)) -s random)
read -r bb bl bw bc < <(bpsim_run "$HERE/configs/examples/ddr4_random.yaml")
row "random" "$pb" "$pl" "$pw" "$pc" "$bb" "$bl" "$bw" "$bc"
read -r pb pl pw pc < <(peer_run stream_paced $((N * 8)) -t "$WORK/stream_paced.trace")
read -r bb bl bw bc < <(bpsim_run "$HERE/configs/examples/ddr4_stream.yaml" --set accelerator.rate_per_ns=$PACED_RATE)
row "stream paced" "$pb" "$pl" "$pw" "$pc" "$bb" "$bl" "$bw" "$bc"
read -r pb pl pw pc < <(peer_run random_paced $((N * 8)) -t "$WORK/random_paced.trace")
read -r bb bl bw bc < <(bpsim_run "$HERE/configs/examples/ddr4_random.yaml" --set accelerator.rate_per_ns=$PACED_RATE)
row "random paced" "$pb" "$pl" "$pw" "$pc" "$bb" "$bl" "$bw" "$bc"
