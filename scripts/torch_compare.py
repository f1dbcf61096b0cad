#!/usr/bin/env python3
"""bpsim's memory figures against PyTorch's, case by case, as a markdown table.

Reads the measured cases (tests/unit/workload/torch_measured.jsonl, written from
scripts/torch_memory.py's output on a GPU) and the case table (tests/unit/workload/torch_cases.json:
case id -> bpsim spec, batch, policy, spec overrides), runs `bpsim workload SPEC --json` for each
case on a spec with the overrides applied, and prints
  case | saved torch | saved bpsim | err | peak torch | peak bpsim | err | check | note
The torch figures are the caching allocator's requested bytes (saved_requested_bytes,
peak_requested_bytes: what the tensors asked for, without the allocator's block rounding);
"check" applies the table's tolerances (saved_tol_bytes, peak_tol; null = a known gap).
A case whose spec or keys bpsim does not have yet (bpsim refuses it) prints "not modelled" with
bpsim's reason. Overrides: "set" replaces top-level spec keys; "layers_set" merges keys into
every layer of a kind (inside repeat/sequential groups too); "layers_replace" replaces such a
layer by the given map. The C++ test tests/unit/workload/test_torch_reference.cpp applies the
same table. Usage:
  python3 scripts/torch_compare.py --bpsim build/bpsim [--root CHECKOUT] [--case ID ...] [--json]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEASURED = os.path.join(ROOT, "tests/unit/workload/torch_measured.jsonl")
TABLE = os.path.join(ROOT, "tests/unit/workload/torch_cases.json")


def edit_layers(layers, case):
    """Applies layers_set / layers_replace to every layer map of the named kinds, recursively."""
    out = []
    for layer in layers:
        if isinstance(layer, dict) and "layers" in layer:  # repeat or sequential group
            layer = dict(layer, layers=edit_layers(layer["layers"], case))
        if isinstance(layer, dict) and layer.get("kind") in case.get("layers_replace", {}):
            new = dict(case["layers_replace"][layer["kind"]])
            if "name" in layer:
                new["name"] = layer["name"]
            layer = new
        if isinstance(layer, dict) and layer.get("kind") in case.get("layers_set", {}):
            layer = dict(layer, **case["layers_set"][layer["kind"]])
        out.append(layer)
    return out


def derived_spec(case, root):
    """The case's spec with its overrides, as YAML text; None when the spec file is missing."""
    path = os.path.join(root, case["spec"])
    if not os.path.exists(path):
        return None
    with open(path) as f:
        spec = yaml.safe_load(f)
    spec.update(case.get("set", {}))
    spec["layers"] = edit_layers(spec["layers"], case)
    return yaml.safe_dump(spec, sort_keys=False)


def policy_flags(policy):
    """The policy map as `bpsim workload` flags (policy_flags.cpp: kind -> --policy, budget_bytes
    -> --budget, other keys with '-' for '_')."""
    flags = []
    for k, v in policy.items():
        flag = {"kind": "policy", "budget_bytes": "budget"}.get(k, k.replace("_", "-"))
        flags += ["--" + flag, str(v)]
    return flags


def run_bpsim(bpsim, case, root):
    """(saved, peak, None) or (None, None, reason)."""
    text = derived_spec(case, root)
    if text is None:
        return None, None, "no spec %s" % case["spec"]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        cmd = [bpsim, "workload", f.name, "--json"] + policy_flags(case["policy"])
        if "batch" in case:
            cmd += ["--batch", str(case["batch"])]
        r = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if r.returncode != 0:
        lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
        return None, None, (lines[0] if lines else "exit %d" % r.returncode).replace(f.name, "SPEC")
    j = json.loads(r.stdout)
    return j["saved_after_forward_bytes"], j["peak_bytes"], None


def verdict(case, saved, peak, m):
    """ok / FAIL under the table's tolerances; "(not modelled)" marks a case the table does not
    check yet, "gap" a known peak gap (peak_tol null)."""
    ok_saved = abs(saved - m["saved_requested_bytes"]) <= case.get("saved_tol_bytes", 0)
    tol = case.get("peak_tol")
    ok_peak = tol is None or abs(peak - m["peak_requested_bytes"]) <= tol * m["peak_requested_bytes"]
    v = ("ok" if ok_saved and ok_peak else "FAIL") + (" (peak gap)" if tol is None else "")
    return v if case.get("modelled") else v + " (not modelled)"


def err(b, t):
    return "%+.2f%%" % (100.0 * (b - t) / t) if t else ("0" if b == t else "inf")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bpsim", required=True)
    ap.add_argument("--measured", default=MEASURED)
    ap.add_argument("--table", default=TABLE)
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--root", default=ROOT, help="checkout whose configs/workloads the table's spec paths name")
    ap.add_argument("--json", action="store_true", help="one JSON line per case instead of markdown")
    a = ap.parse_args()
    measured = {}
    with open(a.measured) as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                measured[rec["case"]] = rec
    with open(a.table) as f:
        table = json.load(f)
    if a.case:
        table = [c for c in table if c["case"] in a.case]
    unmapped = sorted(set(measured) - {c["case"] for c in json.load(open(a.table))})
    if not a.json:
        print("| case | saved torch | saved bpsim | err | peak torch | peak bpsim | err | check | note |")
        print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for c in table:
        m = measured.get(c["case"])
        if m is None or "error" in m:
            row = {"case": c["case"], "note": "not measured"}
        else:
            saved, peak, why = run_bpsim(a.bpsim, c, a.root)
            row = {"case": c["case"], "saved_torch": m["saved_requested_bytes"], "peak_torch": m["peak_requested_bytes"]}
            if why:
                row["check"] = "not modelled" if not c.get("modelled") else "FAIL"
                row["note"] = why
            else:
                row.update({"saved_bpsim": saved, "peak_bpsim": peak, "saved_err": err(saved, row["saved_torch"]),
                            "peak_err": err(peak, row["peak_torch"])})
                row["check"] = verdict(c, saved, peak, m)
                row["note"] = c.get("why", "")
        if a.json:
            print(json.dumps(row))
            continue
        cells = [row["case"], row.get("saved_torch", ""), row.get("saved_bpsim", ""), row.get("saved_err", ""),
                 row.get("peak_torch", ""), row.get("peak_bpsim", ""), row.get("peak_err", ""), row.get("check", ""),
                 row["note"]]
        print("| " + " | ".join(str(x) for x in cells) + " |")
    if unmapped and not a.json:
        print("\nmeasured but not in the case table: " + ", ".join(unmapped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
