#!/usr/bin/env python3
"""The matrix: every network spec in configs/workloads/ x every accelerator kind (the
systolic array in each dataflow and output-sparsity mode, the in-DRAM array, the mesh) x
the policies {none, checkpoint}, each run through the real `bpsim run`.

A cell passes when the run either
  - ends with exit 0, its conservation laws held (bpsim checks them on every run and exits
    1 when one breaks), and its report is the network asked for: the same ops and the same
    MACs as `bpsim workload` gives for the spec, batch and policy; or
  - is refused up front with exit 2 and a message naming the accelerator or workload key
    that cannot be honoured, leaving no report behind.
Any other outcome (exit 1, a crash, a report of another network) fails the matrix. The
outcome of each cell is also compared with tests/matrix/expected.tsv, so a cell that
starts or stops running is a visible change (`--update` rewrites the file).

usage: matrix.py --bpsim BUILD/bpsim [--jobs N] [--update] [--table]
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPECTED = os.path.join(ROOT, "tests", "matrix", "expected.tsv")

# Small batches keep the whole matrix fast; every spec keeps its own shapes otherwise.
BATCH = 2

SYSTOLIC = "configs/arch/systolic_32x32_int8.yaml"
ACCELERATORS = {}
for df in ("ws", "os", "is"):
    for mode in ("off", "gate", "skip"):
        sparsity = "{mode: off}" if mode == "off" else "{mode: %s, granularity: row, pattern: from_op}" % mode
        ACCELERATORS["systolic-%s-%s" % (df, mode)] = (
            SYSTOLIC, "dtype: workload\n  dataflow: %s\n  output_sparsity: %s" % (df, sparsity))
ACCELERATORS["pim"] = ("configs/arch/pim_ddr4.yaml", "")
# The mesh with room for weights and gradients of mid-sized layers (4 MiB per cluster).
ACCELERATORS["mesh"] = ("configs/arch/mesh_8x8.yaml", "cluster: {sram_kib: 4096}")
POLICIES = ("none", "checkpoint")


def specs():
    folder = os.path.join(ROOT, "configs", "workloads")
    return sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".yaml"))


def config_text(spec, accel, policy):
    arch, extra = ACCELERATORS[accel]
    return (
        "include: [%s, %s, %s]\n" % (os.path.join(ROOT, arch), os.path.join(ROOT, "configs/memory/ddr4_2400.yaml"),
                                       os.path.join(ROOT, "configs/energy/45nm.yaml"))
        + ("accelerator:\n  %s\n" % extra if extra else "")
        + "workload:\n  spec: %s\n  batch: %d\n  policy: {kind: %s}\n" % (
            os.path.join(ROOT, "configs/workloads", spec + ".yaml"), BATCH, policy)
        + "run: {seed: 1}\n")


def workload_of(bpsim, spec, policy, cache={}):
    """Ops and MACs of the step as `bpsim workload` builds it (the network asked for)."""
    key = (spec, policy)
    if key not in cache:
        out = subprocess.run([bpsim, "workload", os.path.join(ROOT, "configs/workloads", spec + ".yaml"), "--json",
                              "--batch", str(BATCH), "--policy", policy], capture_output=True, text=True, check=True)
        d = json.loads(out.stdout)
        cache[key] = (len(d["ops"]), sum(o["macs"] for o in d["ops"]))
    return cache[key]


def short(message):
    """The refusal without the config's path, as one line."""
    line = message.strip().splitlines()[-1] if message.strip() else ""
    if line.startswith("bpsim: "):
        line = line[len("bpsim: "):]
    head, sep, rest = line.partition(": ")
    if sep and (head.endswith(".yaml") or ".yaml:" in head):
        line = rest
    return line


def run_cell(bpsim, spec, accel, policy, scratch):
    name = "%s__%s__%s" % (spec, accel, policy)
    cfg = os.path.join(scratch, name + ".yaml")
    with open(cfg, "w") as f:
        f.write(config_text(spec, accel, policy))
    out = os.path.join(scratch, name)
    p = subprocess.run([bpsim, "run", cfg, "--out", out, "-q"], capture_output=True, text=True, timeout=600)
    report = os.path.join(out, "report.json")
    cell = {"spec": spec, "accel": accel, "policy": policy, "code": p.returncode, "problem": ""}
    if p.returncode == 0:
        cell["outcome"] = "ran"
        with open(report) as f:
            r = json.load(f)
        ops, macs = workload_of(bpsim, spec, policy)
        if len(r["ops"]) != ops or r["totals"]["macs"] != macs:
            cell["problem"] = "ran another network: %d ops, %d MACs; the spec has %d ops, %d MACs" % (
                len(r["ops"]), r["totals"]["macs"], ops, macs)
        cell["message"] = "%d ops, %d MACs" % (len(r["ops"]), r["totals"]["macs"])
    elif p.returncode == 2:
        cell["outcome"] = "refused"
        cell["message"] = short(p.stderr)
        if os.path.exists(report):
            cell["problem"] = "refused but left a report"
        if "accelerator." not in cell["message"] and "workload" not in cell["message"]:
            cell["problem"] = "refusal names no accelerator or workload key: " + cell["message"]
    else:
        cell["outcome"] = "failed"
        cell["message"] = short(p.stderr)
        cell["problem"] = "exit %d: %s" % (p.returncode, cell["message"])
    return cell


def read_expected():
    rows = {}
    if os.path.exists(EXPECTED):
        with open(EXPECTED) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                spec, accel, policy, outcome = line.rstrip("\n").split("\t")[:4]
                rows[(spec, accel, policy)] = outcome
    return rows


def write_expected(cells):
    os.makedirs(os.path.dirname(EXPECTED), exist_ok=True)
    with open(EXPECTED, "w") as f:
        f.write("# spec\taccelerator\tpolicy\toutcome\tmessage (written by scripts/matrix.py --update)\n")
        for c in cells:
            f.write("%s\t%s\t%s\t%s\t%s\n" % (c["spec"], c["accel"], c["policy"], c["outcome"], c["message"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bpsim", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--update", action="store_true", help="rewrite tests/matrix/expected.tsv")
    ap.add_argument("--table", action="store_true", help="print every cell as a markdown table")
    a = ap.parse_args()
    bpsim = os.path.abspath(a.bpsim)
    todo = [(s, acc, pol) for s in specs() for acc in ACCELERATORS for pol in POLICIES]
    with tempfile.TemporaryDirectory(prefix="bpsim_matrix_") as scratch:
        for s in specs():  # fill the workload cache once, before the pool shares it
            for pol in POLICIES:
                workload_of(bpsim, s, pol)
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            cells = list(pool.map(lambda t: run_cell(bpsim, t[0], t[1], t[2], scratch), todo))
    expected = read_expected()
    bad = [c for c in cells if c["problem"]]
    changed = [c for c in cells if expected.get((c["spec"], c["accel"], c["policy"])) != c["outcome"]]
    if a.table:
        print("| spec | accelerator | policy | outcome | detail |\n|---|---|---|---|---|")
        for c in cells:
            print("| %s | %s | %s | %s | %s |" % (c["spec"], c["accel"], c["policy"], c["outcome"],
                                                 c["message"].replace("|", "/")))
    ran = sum(c["outcome"] == "ran" for c in cells)
    refused = sum(c["outcome"] == "refused" for c in cells)
    for c in bad:
        print("matrix: %s x %s x %s: %s" % (c["spec"], c["accel"], c["policy"], c["problem"]), file=sys.stderr)
    if a.update:
        write_expected(cells)
    else:
        for c in changed:
            print("matrix: %s x %s x %s: %s, expected %s (tests/matrix/expected.tsv; --update if intended): %s" % (
                c["spec"], c["accel"], c["policy"], c["outcome"], expected.get((c["spec"], c["accel"], c["policy"]),
                                                                              "no entry"), c["message"]),
                  file=sys.stderr)
    print("matrix: %d cells: %d ran with the laws holding, %d refused up front, %d wrong" % (
        len(cells), ran, refused, len(bad)))
    if bad or (changed and not a.update):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
