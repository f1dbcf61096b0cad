#!/usr/bin/env python3
"""report.json against its published JSON Schema (docs/report.schema.json).

Runs every example config (configs/examples/*.yaml) through the real `bpsim run`, and one of
them again with --no-op-entries (a report with "op_count" instead of "ops"), and validates
each report.json against the schema. The schema admits no key it does not list wherever the
set of keys is fixed (`additionalProperties: false`), so a field bpsim starts writing
without the schema knowing it fails here. Then it shows that this check can fail: a field
added to the report at each level the schema closes (the top level, totals, a phase, an op,
an op's extra, the roofline) must be rejected.

Needs python3-jsonschema (Debian's package; scripts/setup.sh installs it).

usage: check_report_schema.py --bpsim BUILD/bpsim [--jobs N] [REPORT.json ...]
  With REPORT.json files, validates those instead of running the examples.
"""
import argparse
import concurrent.futures
import copy
import glob
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "docs", "report.schema.json")


def validator():
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # the schema itself is a valid JSON Schema
    return cls(schema)


def problems(v, report):
    """Every way `report` breaks the schema, one line each ("" when it validates)."""
    return "\n".join("  %s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(top)", e.message)
                     for e in sorted(v.iter_errors(report), key=lambda e: list(map(str, e.absolute_path))))


def run_example(bpsim, config, out, extra_args):
    r = subprocess.run([bpsim, "run", config, "--quiet", "--out", out] + extra_args, cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        return None, "exit %d: %s" % (r.returncode, r.stderr.strip())
    with open(os.path.join(out, "report.json"), encoding="utf-8") as f:
        return json.load(f), ""


def strictness(v, report):
    """Adds an unknown key at each closed level of a valid report; each must be rejected."""
    failures = []
    levels = [("the top level", lambda r: r), ("totals", lambda r: r["totals"]),
              ("a phase", lambda r: next(iter(r["phases"].values()))), ("the roofline", lambda r: r["roofline"]),
              ("the run", lambda r: r["run"]), ("memory", lambda r: r["memory"])]
    if report.get("ops"):
        levels.append(("an op", lambda r: r["ops"][0]))
        if "extra" in report["ops"][0]:
            levels.append(("an op's extra", lambda r: r["ops"][0]["extra"]))
    if "network" in report:
        levels.append(("network", lambda r: r["network"]))
    for name, at in levels:
        r = copy.deepcopy(report)
        at(r)["unknown_figure_bytes"] = 1
        if not problems(v, r):
            failures.append("a key added to %s still validates: the schema does not close it" % name)
    return failures


def system_strictness(v, report):
    """The same for a system's report (docs/system.md "Report"): each closed level rejects a new key."""
    failures = []
    levels = [("the top level", lambda r: r), ("system", lambda r: r["system"]),
              ("the fabric", lambda r: r["system"]["fabric"]), ("a device", lambda r: r["system"]["devices"][0])]
    if report["system"]["transfers"]:
        levels += [("a transfer", lambda r: r["system"]["transfers"][0]), ("a link", lambda r: r["system"]["links"][0]),
                   ("a critical-path step", lambda r: r["system"]["critical_path"][0])]
    for name, at in levels:
        r = copy.deepcopy(report)
        at(r)["unknown_figure_bytes"] = 1
        if not problems(v, r):
            failures.append("a key added to the system report's %s still validates" % name)
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bpsim", help="the bpsim executable (runs the examples)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("reports", nargs="*")
    args = ap.parse_args()
    v = validator()
    failures = []
    reports = {}
    if args.reports:
        for p in args.reports:
            with open(p, encoding="utf-8") as f:
                reports[p] = json.load(f)
    else:
        if not args.bpsim:
            ap.error("--bpsim is needed to run the examples")
        bpsim = os.path.abspath(args.bpsim)
        configs = sorted(glob.glob(os.path.join(ROOT, "configs", "examples", "*.yaml")))
        runs = [(os.path.basename(c)[:-5], c, []) for c in configs]
        runs.append(("mlp_train_systolic --no-op-entries", os.path.join(ROOT, "configs/examples/mlp_train_systolic.yaml"),
                     ["--no-op-entries"]))
        with tempfile.TemporaryDirectory(prefix="bpsim_schema_") as tmp:
            with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
                futures = {name: pool.submit(run_example, bpsim, c, os.path.join(tmp, "r%d" % i), extra)
                           for i, (name, c, extra) in enumerate(runs)}
                for name, fut in futures.items():
                    report, err = fut.result()
                    if report is None:
                        failures.append("%s: %s" % (name, err))
                    else:
                        reports[name] = report
        if "op_count" not in reports.get("mlp_train_systolic --no-op-entries", {"op_count": 0}):
            failures.append("--no-op-entries: the report has no op_count")
    for name, report in reports.items():
        p = problems(v, report)
        if p:
            failures.append("%s: does not match docs/report.schema.json:\n%s" % (name, p))
    # The check can fail: on the largest report (most levels present).
    device_reports = [r for r in reports.values() if "system" not in r]
    if device_reports:
        biggest = max(device_reports, key=lambda r: ("network" in r, len(r.get("ops", []))))
        failures += strictness(v, biggest)
    system_reports = [r for r in reports.values() if "system" in r]
    if system_reports:
        failures += system_strictness(v, max(system_reports, key=lambda r: len(r["system"]["transfers"])))
    for f in failures:
        print("FAIL", f)
    print("%d reports checked against docs/report.schema.json, %d failures" % (len(reports), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
