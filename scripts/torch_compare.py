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
layer by the given map (kept name). The C++ test tests/unit/workload/test_torch_reference.cpp applies the
same table. With --allocator the table compares PyTorch's allocated figures (memory_allocated:
saved_after_forward_bytes, peak_bytes) with bpsim's caching-allocator replay (`allocator:
caching`, docs/workloads.md "Caching allocator") on every framework: pytorch_cuda row. Usage:
  python3 scripts/torch_compare.py --bpsim build/bpsim [--root CHECKOUT] [--case ID ...] [--json] [--allocator]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEASURED = os.path.join(ROOT, "tests/unit/workload/torch_measured.jsonl")
TABLE = os.path.join(ROOT, "tests/unit/workload/torch_cases.json")


def flow(value):
    """A JSON value as YAML flow text (JSON is YAML; a plain word stays unquoted, as specs write it)."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", value):
        return value
    if isinstance(value, dict):
        return "{ " + ", ".join("%s: %s" % (k, flow(v)) for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return json.dumps(value)


FLOW_LAYER = re.compile(r"\{[^{}]*\bkind:\s*([A-Za-z0-9_]+)[^{}]*\}")


def edit_layer(m, case):
    """One flow-map layer `{ kind: K, … }` with the case's layers_replace / layers_set applied."""
    text, kind = m.group(0), m.group(1)
    if kind in case.get("layers_replace", {}):
        name = re.search(r"\bname:\s*([^,}]+)", text)
        new = dict(case["layers_replace"][kind], **({"name": name.group(1).strip()} if name else {}))
        text = "{ " + ", ".join("%s: %s" % (k, flow(v)) for k, v in new.items()) + " }"
    if kind in case.get("layers_set", {}):
        for k, v in case["layers_set"][kind].items():
            if re.search(r"\b%s:" % k, text):
                text = re.sub(r"\b%s:\s*[^,}]+" % k, "%s: %s" % (k, flow(v)), text)
            else:
                text = text.rstrip("} ") + ", %s: %s }" % (k, flow(v))
    return text


def derived_spec(case, root):
    """The case's spec with its overrides, as YAML text; None when the spec file is missing.
    Plain text edits, so that no YAML library is needed: `set` replaces (or adds) a top-level
    `key: value` line; layers_set / layers_replace rewrite the one-line flow maps
    `{ kind: K, … }` the specs write their layers as (a kind to edit must appear so)."""
    path = os.path.join(root, case["spec"])
    if not os.path.exists(path):
        return None
    with open(path) as f:
        text = f.read()
    for key, value in case.get("set", {}).items():
        line = "%s: %s" % (key, flow(value))
        if key == "layers":  # the whole layer list
            text = text[:re.search(r"^layers:", text, re.M).start()] + line + "\n"
        elif re.search(r"^%s:" % key, text, re.M):
            text = re.sub(r"^%s:.*$" % key, line, text, count=1, flags=re.M)
        else:
            text = re.sub(r"^layers:", line + "\nlayers:", text, count=1, flags=re.M)
    kinds = set(case.get("layers_set", {})) | set(case.get("layers_replace", {}))
    for kind in kinds:
        if not re.search(r"\{[^{}]*\bkind:\s*%s\b" % kind, text):
            raise SystemExit("%s: no one-line layer of kind %s in %s" % (case["case"], kind, case["spec"]))
    if kinds:
        text = FLOW_LAYER.sub(lambda m: edit_layer(m, case) if m.group(1) in kinds else m.group(0), text)
    return text


def policy_flags(policy):
    """The policy map as `bpsim workload` flags (policy_flags.cpp: kind -> --policy, budget_bytes
    -> --budget, other keys with '-' for '_')."""
    flags = []
    for k, v in policy.items():
        flag = {"kind": "policy", "budget_bytes": "budget"}.get(k, k.replace("_", "-"))
        flags += ["--" + flag, str(v)]
    return flags


def run_bpsim(bpsim, case, root, figures=lambda j: (j["saved_after_forward_bytes"], j["peak_bytes"])):
    """(saved, peak, None) or (None, None, reason); `figures` picks them from the JSON."""
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
    return figures(json.loads(r.stdout)) + (None,)


def row_name(case):
    """A row's name: its case, or "case/variant" for a second row of the same measured case."""
    return case["case"] + ("/" + case["variant"] if "variant" in case else "")


def verdict(case, saved, peak, m):
    """ok / FAIL under the table's tolerances ("peak gap": peak_tol null, a known gap); a case the
    table does not check yet: "not checked: would pass" or "not checked: off"."""
    ok_saved = abs(saved - m["saved_requested_bytes"]) <= case.get("saved_tol_bytes", 0)
    tol = case.get("peak_tol")
    ok_peak = tol is None or abs(peak - m["peak_requested_bytes"]) <= tol * m["peak_requested_bytes"]
    if not case.get("modelled"):
        return "not checked: " + ("would pass" if ok_saved and ok_peak else "off")
    return ("ok" if ok_saved and ok_peak else "FAIL") + (" (peak gap)" if tol is None else "")


def err(b, t):
    return "%+.2f%%" % (100.0 * (b - t) / t) if t else ("0" if b == t else "inf")


def allocator_table(a, measured, table):
    """--allocator: PyTorch's block figures against the caching-allocator replay, per pytorch_cuda row."""
    def alloc(j):
        return j["allocator"]["saved_after_forward_bytes"], j["allocator"]["peak_bytes"]

    if not a.json:
        print("| case | saved allocated torch | bpsim | diff | over requested | peak allocated torch | bpsim | diff |"
              " over requested |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in table:
        m = measured.get(c["case"])
        if c.get("set", {}).get("framework") != "pytorch_cuda" or m is None or "error" in m:
            continue
        # measure() runs no optimizer step, so no optimizer state shares the allocator's segments.
        c = dict(c, set=dict(c["set"], allocator="caching", **({} if m.get("optimizer") else {"optimizer": "sgd"})))
        saved, peak, why = run_bpsim(a.bpsim, c, a.root, alloc)
        row = {"case": row_name(c), "saved_torch": m["saved_after_forward_bytes"], "peak_torch": m["peak_bytes"],
               "saved_slack_torch": m["saved_after_forward_bytes"] - m["saved_requested_bytes"],
               "peak_slack_torch": m["peak_bytes"] - m["peak_requested_bytes"]}
        if why:
            row["note"] = why
        else:
            row.update({"saved_bpsim": saved, "peak_bpsim": peak, "saved_diff": saved - row["saved_torch"],
                        "peak_diff": peak - row["peak_torch"]})
        if a.json:
            print(json.dumps(row))
            continue
        print("| " + " | ".join(str(row.get(k, "")) for k in (
            "case", "saved_torch", "saved_bpsim", "saved_diff", "saved_slack_torch", "peak_torch", "peak_bpsim",
            "peak_diff", "peak_slack_torch")) + " |" + (" " + row["note"] if "note" in row else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bpsim", required=True)
    ap.add_argument("--measured", default=MEASURED)
    ap.add_argument("--table", default=TABLE)
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--root", default=ROOT, help="checkout whose configs/workloads the table's spec paths name")
    ap.add_argument("--json", action="store_true", help="one JSON line per case instead of markdown")
    ap.add_argument("--brief", action="store_true",
                    help="no note column; a refused case shows the gist of bpsim's message (docs/workloads.md's table)")
    ap.add_argument("--allocator", action="store_true",
                    help="allocated (block) figures against bpsim's allocator: caching, on the pytorch_cuda rows")
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
    if a.allocator:
        allocator_table(a, measured, table)
        return 0
    unmapped = sorted(set(measured) - {c["case"] for c in json.load(open(a.table))})
    if not a.json:
        print("| case | saved torch | saved bpsim | err | peak torch | peak bpsim | err | check |" +
              ("" if a.brief else " note |"))
        print("|---|---:|---:|---:|---:|---:|---:|---|" + ("" if a.brief else "---|"))
    for c in table:
        m = measured.get(c["case"])
        if m is None or "error" in m:
            row = {"case": row_name(c), "note": "not measured"}
        else:
            saved, peak, why = run_bpsim(a.bpsim, c, a.root)
            row = {"case": row_name(c), "saved_torch": m["saved_requested_bytes"], "peak_torch": m["peak_requested_bytes"]}
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
        if a.brief:
            if "saved_bpsim" not in row:  # "bpsim: SPEC:22:1: loss: unknown key (valid: …)" -> "loss: unknown key"
                cells[7] += ": " + re.sub(r" \(valid:.*$|^bpsim: SPEC:\d+:\d+: ", "", row["note"])
            cells.pop()
        print("| " + " | ".join(str(x) for x in cells) + " |")
    if unmapped and not a.json and not a.brief:
        print("\nmeasured but not in the case table: " + ", ".join(unmapped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
