#!/usr/bin/env bash
# Compares bpsim's collectives (`bpsim collective`, docs/system.md "Collectives") with
# ASTRA-sim's analytical network backend on the same all-reduces: a ring all-reduce on a ring
# and on a switch of p devices, and a hierarchical all-reduce on a 2D torus (bpsim's
# torus2d, inner groups = its rows; ASTRA-sim's two-dimensional [Ring, Ring] with its
# localBWAware collective: reduce-scatter in dimension 1, all-reduce in dimension 2 on what is
# left, all-gather in dimension 1), at a few buffer sizes, the same link bandwidth and latency.
# Downloads nothing: pass an ASTRA-sim checkout (with its submodules) built beside the project
# by its build/astra_analytical/build.sh.
#   usage: scripts/compare_astrasim.sh PEER_DIR [BPSIM_BIN]
#   env:   BACKENDS  ASTRA-sim backends to run, a column each (default "unaware aware"):
#                    unaware: a message costs hops·latency + size/bandwidth, nothing queues (the
#                    α–β model bpsim's collectives use, cut-through); aware: each link queues
#                    the messages that cross it and forwards a message after it has fully
#                    arrived (store-and-forward: every hop costs latency + size/bandwidth)
#          NPUS     device counts (default "4 8 16")
#          SIZES    all-reduce sizes in bytes (default "1048576 67108864 1073741824")
#          TOPOLOGIES  "Ring Switch Torus2D" (default); a torus of p is cols × rows with cols
#                   the power of 2 at or above √p (4 → 2×2, 8 → 4×2, 16 → 4×4); ASTRA-sim's
#                   congestion-aware backend takes one dimension only, so its Torus2D column is "-"
#          GBPS, LATENCY_NS  one link (default 50 GB/s, 500 ns)
# ASTRA-sim's settings, chosen so that it runs one plain ring all-reduce: one chunk
# (preferred-dataset-splits 1, active-chunks-per-dimension 1), an endpoint delay of 1 ns (the
# least it runs with: at 0 its event queue stops on an assertion; it adds about 1 ns a
# step, and ASTRA-sim's integer nanoseconds round each message down), no
# collective optimisation, no roofline compute, no local reduction delay, a local memory
# fast enough to be no limit (1e6 GB/s). Built and checked at ASTRA-sim's tag
# tutorial-micro2024 (8be99b6) with its analytical backend at 599a047.
# ASTRA-sim's GB/s is 2^30 B/s (its bw_GBps_to_Bpns); bpsim's is 1e9 B/s, so bpsim is given
# GBPS · 2^30 / 1e9 to run on the same β. ASTRA-sim prints cycles of 1 ns.
set -euo pipefail
peer=${1:?usage: compare_astrasim.sh PEER_DIR [BPSIM_BIN]}
here=$(cd "$(dirname "$0")/.." && pwd)
bpsim=${2:-$here/build/bpsim}
backends=${BACKENDS:-unaware aware}
for b in $backends; do
  case $b in
    aware) bin=$peer/build/astra_analytical/build/bin/AstraSim_Analytical_Congestion_Aware ;;
    unaware) bin=$peer/build/astra_analytical/build/bin/AstraSim_Analytical_Congestion_Unaware ;;
    *) echo "BACKENDS: aware or unaware (not $b)" >&2; exit 2 ;;
  esac
  [[ -x $bin ]] || { echo "no ASTRA-sim binary at $bin (bash $peer/build/astra_analytical/build.sh)" >&2; exit 2; }
done
astra_bin() {  # backend → binary
  case $1 in
    aware) echo "$peer/build/astra_analytical/build/bin/AstraSim_Analytical_Congestion_Aware" ;;
    unaware) echo "$peer/build/astra_analytical/build/bin/AstraSim_Analytical_Congestion_Unaware" ;;
  esac
}
[[ -x $bpsim ]] || { echo "no bpsim binary at $bpsim" >&2; exit 2; }
proto=$peer/extern/graph_frontend/chakra/schema/protobuf
utils=$peer/extern/graph_frontend/chakra/src/third_party/utils
[[ -f $proto/et_def_pb2.py ]] || { echo "no $proto/et_def_pb2.py (ASTRA-sim's build.sh makes it)" >&2; exit 2; }
npus=${NPUS:-4 8 16}
sizes=${SIZES:-1048576 67108864 1073741824}
topologies=${TOPOLOGIES:-Ring Switch Torus2D}
gbps=${GBPS:-50}
latency=${LATENCY_NS:-500}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

write_system() {  # dimensions collective-optimization → $work/system.json
  local impl
  impl=$(python3 -c "print(', '.join(['\"ring\"'] * $1))")
  cat > "$work/system.json" <<JSON
{
  "scheduling-policy": "LIFO",
  "endpoint-delay": 1,
  "active-chunks-per-dimension": 1,
  "preferred-dataset-splits": 1,
  "all-reduce-implementation": [$impl],
  "all-gather-implementation": [$impl],
  "reduce-scatter-implementation": [$impl],
  "all-to-all-implementation": [$impl],
  "collective-optimization": "$2",
  "local-mem-bw": 1000000,
  "local-reduction-delay": 0,
  "model-shared-bus": 0,
  "roofline-enabled": 0
}
JSON
}
echo '{"memory-type": "NO_MEMORY_EXPANSION"}' > "$work/memory.json"

# One Chakra execution trace per device: a single all-reduce node of `size` bytes. Debian's
# python3 imports the protobuf module ASTRA-sim's build generated.
make_workload() {  # npus size dir
  /usr/bin/python3 - "$1" "$2" "$3" "$proto" "$utils" <<'PY'
import os, sys
npus, size, out, proto, utils = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
sys.path[:0] = [proto, utils]
import et_def_pb2 as et
from protolib import encodeMessage
os.makedirs(out, exist_ok=True)
for npu in range(npus):
    with open(os.path.join(out, "all_reduce.%d.et" % npu), "wb") as f:
        encodeMessage(f, et.GlobalMetadata(version="0.0.4"))
        node = et.Node(id=0, name="all_reduce", type=et.COMM_COLL_NODE)
        node.attr.append(et.AttributeProto(name="is_cpu_op", bool_val=False))
        node.attr.append(et.AttributeProto(name="comm_type", int64_val=et.ALL_REDUCE))
        node.attr.append(et.AttributeProto(name="comm_size", int64_val=size))
        encodeMessage(f, node)
PY
}

torus_cols() { python3 -c "import math; print(2 ** math.ceil(math.log2($1) / 2))"; }

astra_seconds() {  # backend topology npus size → seconds (the last device to finish), or "-"
  local backend=$1
  shift
  if [[ $1 == Torus2D ]]; then
    [[ $backend == aware ]] && { echo -; return; }
    local c r
    c=$(torus_cols "$2")
    r=$(($2 / c))
    printf 'topology: [ Ring, Ring ]\nnpus_count: [ %s, %s ]\nbandwidth: [ %s, %s ]\nlatency: [ %s, %s ]\n' \
      "$c" "$r" "$gbps" "$gbps" "$latency" "$latency" > "$work/network.yml"
    write_system 2 localBWAware
  else
    printf 'topology: [ %s ]\nnpus_count: [ %s ]\nbandwidth: [ %s ]\nlatency: [ %s ]\n' "$1" "$2" "$gbps" "$latency" \
      > "$work/network.yml"
    write_system 1 baseline
  fi
  make_workload "$2" "$3" "$work/wl_$2_$3"
  (cd "$work" && "$(astra_bin "$backend")" --workload-configuration="$work/wl_$2_$3/all_reduce" \
    --system-configuration="$work/system.json" --remote-memory-configuration="$work/memory.json" \
    --network-configuration="$work/network.yml" > "$work/astra.log" 2>&1) ||
    { cat "$work/astra.log" >&2; exit 1; }
  local cycles
  cycles=$(grep -o 'finished, [0-9]* cycles' "$work/astra.log" | awk '{print $2}' | sort -n | tail -1)
  [[ -n $cycles ]] || { echo "ASTRA-sim printed no finish time:" >&2; cat "$work/astra.log" >&2; exit 1; }
  python3 -c "print($cycles * 1e-9)"
}

bpsim_seconds() {  # topology npus size → seconds
  local how
  case $1 in
    Ring) how="--topology ring --algorithm ring" ;;
    Switch) how="--topology switch --algorithm ring" ;;
    Torus2D) how="--topology torus2d --dims $(($2 / $(torus_cols "$2"))),$(torus_cols "$2") --algorithm hierarchical"
             how+=" --inner-group $(torus_cols "$2")" ;;
  esac
  # shellcheck disable=SC2086
  "$bpsim" collective $how --devices "$2" --bytes "$3" \
    --bandwidth-gbps "$(python3 -c "print($gbps * 2**30 / 1e9)")" --latency-ns "$latency" --json |
    python3 -c "import json, sys; print(json.load(sys.stdin)['seconds'])"
}

echo "all-reduce (ring; Torus2D: hierarchical), ${gbps} GB/s (2^30 B/s) and ${latency} ns a link; times in µs; ratio = bpsim / ASTRA-sim"
header=$(printf '%-8s %5s %12s %14s' topology npus bytes bpsim)
for b in $backends; do header+=$(printf ' %14s %8s' "astra_$b" ratio); done
echo "$header"
for topo in $topologies; do
  for p in $npus; do
    for n in $sizes; do
      bp=$(bpsim_seconds "$topo" "$p" "$n")
      row=$(printf '%-8s %5d %12d %14.3f' "$topo" "$p" "$n" "$(python3 -c "print($bp * 1e6)")")
      for b in $backends; do
        a=$(astra_seconds "$b" "$topo" "$p" "$n")
        if [[ $a == - ]]; then row+=$(printf ' %14s %8s' - -); continue; fi
        row+=$(python3 -c "print(' %14.3f %8.4f' % ($a * 1e6, $bp / $a))")
      done
      echo "$row"
    done
  done
done
