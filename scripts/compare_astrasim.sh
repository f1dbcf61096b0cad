#!/usr/bin/env bash
# Compares bpsim's collectives (`bpsim collective`, docs/system.md "Collectives") with
# ASTRA-sim's analytical network backend on the same all-reduces: a ring all-reduce on a ring
# and on a switch of p devices, at a few buffer sizes, the same link bandwidth and latency.
# Downloads nothing: pass an ASTRA-sim checkout (with its submodules) built beside the project
# by its build/astra_analytical/build.sh.
#   usage: scripts/compare_astrasim.sh PEER_DIR [BPSIM_BIN]
#   env:   BACKEND  aware (default: ASTRA-sim's congestion-aware backend, whose links queue
#                   their messages as bpsim's steps do) or unaware
#          NPUS     device counts (default "4 8 16")
#          SIZES    all-reduce sizes in bytes (default "1048576 67108864 1073741824")
#          TOPOLOGIES  "Ring Switch" (default; ASTRA-sim's names)
#          GBPS, LATENCY_NS  one link (default 50 GB/s, 500 ns)
# ASTRA-sim's settings, chosen so that it runs one plain ring all-reduce: one chunk
# (preferred-dataset-splits 1, active-chunks-per-dimension 1), no endpoint delay, no
# collective optimisation, no roofline compute, no local reduction delay, a local memory
# fast enough to be no limit (1e6 GB/s). Built and checked at ASTRA-sim's tag
# tutorial-micro2024 (8be99b6) with its analytical backend at 599a047.
# ASTRA-sim's GB/s is 2^30 B/s (its bw_GBps_to_Bpns); bpsim's is 1e9 B/s, so bpsim is given
# GBPS · 2^30 / 1e9 to run on the same β. ASTRA-sim prints cycles of 1 ns.
set -euo pipefail
peer=${1:?usage: compare_astrasim.sh PEER_DIR [BPSIM_BIN]}
here=$(cd "$(dirname "$0")/.." && pwd)
bpsim=${2:-$here/build/bpsim}
backend=${BACKEND:-aware}
case $backend in
  aware) astra=$peer/build/astra_analytical/build/bin/AstraSim_Analytical_Congestion_Aware ;;
  unaware) astra=$peer/build/astra_analytical/build/bin/AstraSim_Analytical_Congestion_Unaware ;;
  *) echo "BACKEND must be aware or unaware (it is $backend)" >&2; exit 2 ;;
esac
[[ -x $astra ]] || { echo "no ASTRA-sim binary at $astra (bash $peer/build/astra_analytical/build.sh)" >&2; exit 2; }
[[ -x $bpsim ]] || { echo "no bpsim binary at $bpsim" >&2; exit 2; }
proto=$peer/extern/graph_frontend/chakra/schema/protobuf
utils=$peer/extern/graph_frontend/chakra/src/third_party/utils
[[ -f $proto/et_def_pb2.py ]] || { echo "no $proto/et_def_pb2.py (ASTRA-sim's build.sh makes it)" >&2; exit 2; }
npus=${NPUS:-4 8 16}
sizes=${SIZES:-1048576 67108864 1073741824}
topologies=${TOPOLOGIES:-Ring Switch}
gbps=${GBPS:-50}
latency=${LATENCY_NS:-500}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/system.json" <<JSON
{
  "scheduling-policy": "LIFO",
  "endpoint-delay": 0,
  "active-chunks-per-dimension": 1,
  "preferred-dataset-splits": 1,
  "all-reduce-implementation": ["ring"],
  "all-gather-implementation": ["ring"],
  "reduce-scatter-implementation": ["ring"],
  "all-to-all-implementation": ["ring"],
  "collective-optimization": "baseline",
  "local-mem-bw": 1000000,
  "local-reduction-delay": 0,
  "model-shared-bus": 0,
  "roofline-enabled": 0
}
JSON
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

astra_seconds() {  # topology npus size → seconds (the last device to finish)
  printf 'topology: [ %s ]\nnpus_count: [ %s ]\nbandwidth: [ %s ]\nlatency: [ %s ]\n' "$1" "$2" "$gbps" "$latency" \
    > "$work/network.yml"
  make_workload "$2" "$3" "$work/wl_$2_$3"
  (cd "$work" && "$astra" --workload-configuration="$work/wl_$2_$3/all_reduce" \
    --system-configuration="$work/system.json" --remote-memory-configuration="$work/memory.json" \
    --network-configuration="$work/network.yml" > "$work/astra.log" 2>&1) ||
    { cat "$work/astra.log" >&2; exit 1; }
  local cycles
  cycles=$(grep -o 'finished, [0-9]* cycles' "$work/astra.log" | awk '{print $2}' | sort -n | tail -1)
  [[ -n $cycles ]] || { echo "ASTRA-sim printed no finish time:" >&2; cat "$work/astra.log" >&2; exit 1; }
  python3 -c "print($cycles * 1e-9)"
}

bpsim_seconds() {  # topology npus size → seconds
  local topo
  topo=$(echo "$1" | tr '[:upper:]' '[:lower:]')
  "$bpsim" collective --topology "$topo" --devices "$2" --bytes "$3" --algorithm ring \
    --bandwidth-gbps "$(python3 -c "print($gbps * 2**30 / 1e9)")" --latency-ns "$latency" --json |
    python3 -c "import json, sys; print(json.load(sys.stdin)['seconds'])"
}

echo "ring all-reduce, ${gbps} GB/s (2^30 B/s) and ${latency} ns a link; ASTRA-sim congestion-$backend backend"
printf '%-8s %5s %12s %14s %14s %8s\n' topology npus bytes bpsim_us astrasim_us ratio
for topo in $topologies; do
  for p in $npus; do
    for n in $sizes; do
      b=$(bpsim_seconds "$topo" "$p" "$n")
      a=$(astra_seconds "$topo" "$p" "$n")
      python3 -c "b, a = $b, $a; print('%-8s %5d %12d %14.3f %14.3f %8.4f' % ('$topo', $p, $n, b * 1e6, a * 1e6, b / a))"
    done
  done
done
