#!/usr/bin/env bash
# Mesh model speed, in both network models (accelerator.noc.model: flit, flow): wall and CPU
# time of synthetic 8×8 uniform traffic at 0.3 flits/node/cycle (100k measured cycles), and
# of the training steps of LeNet-5 (8×8, batch 16), the MLP, ResNet-18 at batch 1 on 14×14
# and a GPT-2 block (issue #18's targets: ResNet-18 ≤ 10 s flit level, ≤ 1 s flow level). An
# example config that does not exist in this checkout is reported as not available.
#   usage: scripts/bench_mesh.sh [BUILD_DIR]     (BENCH_MODELS="flow" to run one model)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - "$build/bpsim" "$here/configs/examples" "$out" "${BENCH_MODELS:-flit flow}" <<'PY'
import json, os, resource, subprocess, sys, time
bpsim, examples, out, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
print(f"{'config':<22} {'model':<5} {'wall_s':>7} {'cpu_s':>7} {'cycles':>10} {'flit_hops':>11} {'latency':>9}")
for name in ["mesh_synthetic_uniform", "lenet5_train_mesh", "mlp_train_mesh", "resnet18_train_mesh",
             "gpt2_block_train_mesh"]:
    cfg = os.path.join(examples, name + ".yaml")
    extra = ["--set", "accelerator.traffic.warmup_cycles=0"] if name == "mesh_synthetic_uniform" else []
    for model in models:
        if not os.path.exists(cfg):
            print(f"{name:<22} {model:<5} not available (no configs/examples/{name}.yaml)")
            continue
        dest = os.path.join(out, f"{name}.{model}")
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        r = subprocess.run([bpsim, "run", cfg, "--out", dest, "--force", "--quiet", "--set",
                            f"accelerator.noc.model={model}"] + extra, capture_output=True, text=True)
        wall = time.monotonic() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
        if r.returncode != 0:
            print(f"{name:<22} {model:<5} failed (exit {r.returncode}): {r.stderr.strip()[:200]}")
            continue
        rep = json.load(open(os.path.join(dest, "report.json")))
        n = rep["network"]
        print(f"{name:<22} {model:<5} {wall:7.2f} {cpu:7.2f} {rep['totals']['cycles']:10d} {n['flit_hops']:11d} "
              f"{n['avg_packet_latency_cycles']:9.1f}")
PY
