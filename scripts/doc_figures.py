#!/usr/bin/env python3
"""Simulated figures in the docs are produced by bpsim, not pasted by hand.

    doc_figures.py --check  --bpsim build/bpsim [--manifest docs/figures.json] [--only NAME ...]
    doc_figures.py --update --bpsim build/bpsim [...]

The manifest (JSON; docs/figures.json) has two parts:

  "runs": {ID: {"cmd": [ARG, ...], "exit": 0}}
      Commands, run once each from the repository root (in parallel, -j). In ARG, {bpsim}
      is the bpsim executable given with --bpsim, {build} its folder, {out} a fresh empty
      temporary folder for this run (reports, compare.csv, ...); nothing else in ARG is
      touched (YAML braces pass through). "exit" is the expected exit code (default 0;
      2 to read an input error's message from stderr).

  "figures": [{"name": N, "file": DOC, "text": TEMPLATE, "values": {SLOT: VALUE}}]
      TEMPLATE is the doc's own text with each figure replaced by {SLOT} ({{ and }} for
      literal braces). Any run of whitespace in it matches any run in the doc, so a
      template is written on one line however the paragraph is wrapped; it must match
      exactly once in DOC (a path from the repository root). The docs stay plain
      Markdown: comment markers would clutter the prose and cannot sit inside a code
      block (the compare table), so the manifest finds figures by the words around them.
      A slot matches within one line unless its value says "block": true.

  VALUE: where a figure comes from and how it is written:
      {"run": ID, SOURCE..., "expr": E, "format": F, "group": SEP, "block": bool}
    SOURCE is one of
      "json": FILE, "path": "a.b.0.c"          a value in {out}/FILE (e.g. report.json)
      "csv": FILE, "row": {COL: V}, "col": C   column C of the row of {out}/FILE matching
      "stdout": REGEX  (or "stderr": REGEX)    group 1 of the first match (multi-line mode)
      "count": REGEX                           how many lines of stdout match
    Several sources: "vars": {NAME: {"run": ..., SOURCE...}}, combined by "expr".
    "expr" is a Python expression over the source value(s) (x for a single source;
    numbers are parsed from text), "format" a str.format pattern (default "{}"), and
    "group" replaces the thousands commas that "{:,}" writes (e.g. " ").

  Any object may carry a "comment" (JSON has no comments): say there why a figure is read
  the way it is.

--check reruns every command and exits 1 if any figure differs, printing FILE:LINE with
the old and new text and a unified diff; --update writes the new figures into the docs.
Exit codes: 0 all figures agree (or were updated), 1 a figure differs, 2 a bad manifest
or a template that no longer matches its doc (the message names the file and entry),
3 a command failed or its output lacks a figure.

Only deterministic simulation output belongs here. Wall-clock times and speed-ups vary
from machine to machine; the docs give them as measurements together with the command.
"""
import argparse
import concurrent.futures
import csv
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ("json", "csv", "stdout", "stderr", "count")
# What a manifest expression may call (the manifest is ours, but a typo should not reach os).
SAFE_BUILTINS = {"abs": abs, "round": round, "min": min, "max": max, "int": int, "float": float, "len": len}
SLOT = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ManifestError(Exception):
    """The manifest (or a template against its doc) is wrong: exit 2."""


class RunError(Exception):
    """A command failed or its output lacks what a figure reads: exit 3."""


def need(cond, where, msg):
    if not cond:
        raise ManifestError(f"{where}: {msg}")


def load_manifest(path):
    try:
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
    except OSError as e:
        raise ManifestError(f"{path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path}:{e.lineno}:{e.colno}: not JSON: {e.msg}")
    need(isinstance(m, dict) and set(m) <= {"runs", "figures", "comment"}, path,
         'expected an object with "runs" and "figures"')
    runs, figures = m.get("runs", {}), m.get("figures", [])
    need(isinstance(runs, dict) and isinstance(figures, list), path, '"runs" is an object, "figures" a list')
    for rid, r in runs.items():
        where = f"{path}: run '{rid}'"
        need(isinstance(r, dict) and set(r) <= {"cmd", "exit", "comment"}, where, 'keys: "cmd", "exit"')
        need(isinstance(r.get("cmd"), list) and r["cmd"] and all(isinstance(a, str) for a in r["cmd"]),
             where, '"cmd" must be a non-empty list of strings')
        need(isinstance(r.get("exit", 0), int), where, '"exit" must be an integer')
    names = set()
    for i, fig in enumerate(figures):
        where = f"{path}: figures[{i}]"
        need(isinstance(fig, dict), where, "must be an object")
        where = f"{path}: figure '{fig.get('name', i)}'"
        need(set(fig) <= {"name", "file", "text", "values", "comment"}, where,
             'keys: "name", "file", "text", "values"')
        for k in ("name", "file", "text"):
            need(isinstance(fig.get(k), str) and fig[k], where, f'"{k}" must be a non-empty string')
        need(fig["name"] not in names, where, "duplicate name")
        names.add(fig["name"])
        values = fig.get("values")
        need(isinstance(values, dict) and values, where, '"values" must be a non-empty object')
        slots = [s for s in SLOT.findall(fig["text"]) if s]
        need(sorted(slots) == sorted(set(slots)), where, "a slot appears twice in the template")
        need(set(slots) == set(values), where,
             f"template slots {sorted(slots)} differ from values {sorted(values)}")
        for slot, v in values.items():
            check_value(v, runs, f"{where}, value '{slot}'")
    return runs, figures


def check_value(v, runs, where):
    need(isinstance(v, dict), where, "must be an object")
    allowed = {"run", "path", "row", "col", "expr", "format", "group", "block", "vars", "comment"} | set(SOURCES)
    bad = set(v) - allowed
    need(not bad, where, f"unknown keys {sorted(bad)} (known: {sorted(allowed)})")
    if "vars" in v:
        need(isinstance(v["vars"], dict) and v["vars"], where, '"vars" must be a non-empty object')
        need(not set(SOURCES) & set(v), where, 'give a source or "vars", not both')
        need("expr" in v, where, '"vars" needs an "expr"')
        for name, src in v["vars"].items():
            check_source(src, runs, f"{where}, var '{name}'")
    else:
        check_source(v, runs, where)
    for k in ("expr", "format", "group"):
        need(isinstance(v.get(k, ""), str), where, f'"{k}" must be a string')
    if "expr" in v:
        try:
            compile(v["expr"], where, "eval")
        except SyntaxError as e:
            raise ManifestError(f"{where}: expr: {e.msg}")


def check_source(src, runs, where):
    need(isinstance(src, dict), where, "must be an object")
    kinds = [k for k in SOURCES if k in src]
    need(len(kinds) == 1, where, f"give exactly one source of {list(SOURCES)}")
    need(src.get("run") in runs, where, f"\"run\" must name a run of the manifest (got {src.get('run')!r})")
    kind = kinds[0]
    if kind == "json":
        need(isinstance(src.get("path"), str), where, 'a "json" source needs a "path" (a.b.0.c)')
    if kind == "csv":
        need(isinstance(src.get("row"), dict) and isinstance(src.get("col"), str), where,
             'a "csv" source needs "row" ({column: value}) and "col"')
    if kind in ("stdout", "stderr", "count"):
        try:
            rx = re.compile(src[kind], re.M)
        except re.error as e:
            raise ManifestError(f"{where}: {kind} regex: {e}")
        need(kind == "count" or rx.groups >= 1, where, f"the {kind} regex needs a group")


def template_regex(text, values):
    """The template as a regex: literals escaped (whitespace runs as \\s+), slots as groups."""
    out, pos = [], 0
    for m in SLOT.finditer(text):
        out.append(literal(text[pos:m.start()]))
        if m.group(1):
            body = r"[\s\S]+?" if values[m.group(1)].get("block") else r"[^\n]+?"
            out.append(f"(?P<{m.group(1)}>{body})")
        else:
            out.append(re.escape(m.group(0)[0]))
        pos = m.end()
    out.append(literal(text[pos:]))
    return re.compile("".join(out))


def literal(s):
    return r"\s+".join(re.escape(part) for part in re.split(r"\s+", s)) if s.strip() else (r"\s+" if s else "")


def run_all(runs, bpsim, jobs, tmp, verbose):
    """Runs each command once; returns {id: (out_dir, stdout, stderr)}."""
    def one(rid):
        t0 = time.monotonic()
        out = os.path.join(tmp, rid)
        os.makedirs(out)
        subst = {"bpsim": bpsim, "build": os.path.dirname(bpsim), "out": out}
        # Plain replacement, not str.format: arguments may hold YAML braces ({chakra: F}).
        argv = []
        for a in runs[rid]["cmd"]:
            for k, val in subst.items():
                a = a.replace("{" + k + "}", val)
            argv.append(a)
        env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
        p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=env)
        want = runs[rid].get("exit", 0)
        if p.returncode != want:
            tail = "\n".join((p.stderr or p.stdout).splitlines()[-15:])
            raise RunError(f"run '{rid}': {' '.join(argv)}\nexited {p.returncode}, expected {want}:\n{tail}")
        if verbose:  # to see which runs make the check slow
            print(f"doc_figures: run '{rid}' {time.monotonic() - t0:.2f} s", file=sys.stderr)
        return rid, (out, p.stdout, p.stderr)
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(pool.map(one, runs))


def number(s):
    if not isinstance(s, str):
        return s
    for conv in (int, float):
        try:
            return conv(s.replace(",", "").strip())
        except ValueError:
            pass
    return s


def read_source(src, results, where):
    out, stdout, stderr = results[src["run"]]
    try:
        if "json" in src:
            with open(os.path.join(out, src["json"]), encoding="utf-8") as f:
                v = json.load(f)
            for key in src["path"].split("."):
                v = v[int(key)] if isinstance(v, list) else v[key]
            return v
        if "csv" in src:
            with open(os.path.join(out, src["csv"]), encoding="utf-8", newline="") as f:
                rows = [r for r in csv.DictReader(f) if all(r.get(k) == str(x) for k, x in src["row"].items())]
            if len(rows) != 1:
                raise RunError(f"{where}: {len(rows)} rows of {src['csv']} match {src['row']}")
            return number(rows[0][src["col"]])
        if "count" in src:
            return sum(1 for line in stdout.splitlines() if re.search(src["count"], line))
        kind = "stdout" if "stdout" in src else "stderr"
        m = re.search(src[kind], stdout if kind == "stdout" else stderr, re.M)
        if not m:
            raise RunError(f"{where}: run '{src['run']}' {kind} has no match for {src[kind]!r}")
        return number(m.group(1))
    except (OSError, KeyError, IndexError, ValueError, TypeError) as e:
        raise RunError(f"{where}: run '{src['run']}': cannot read the value: {type(e).__name__}: {e}")


def render(v, results, where):
    if "vars" in v:
        env = {name: read_source(src, results, f"{where}, var '{name}'") for name, src in v["vars"].items()}
    else:
        env = {"x": read_source(v, results, where)}
    try:
        x = eval(v["expr"], {"__builtins__": SAFE_BUILTINS}, env) if "expr" in v else env["x"]
        s = v.get("format", "{}").format(x)
    except Exception as e:  # any error in a manifest expression or format is the manifest's
        raise ManifestError(f"{where}: expr/format: {type(e).__name__}: {e}")
    return s.replace(",", v["group"]) if "group" in v else s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="fail (exit 1) if a figure in the docs differs")
    mode.add_argument("--update", action="store_true", help="rewrite the figures in the docs")
    ap.add_argument("--bpsim", required=True, help="the bpsim executable of the build")
    ap.add_argument("--manifest", default=os.path.join(ROOT, "docs", "figures.json"))
    ap.add_argument("--only", nargs="+", metavar="NAME", help="only these figures")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("-v", "--verbose", action="store_true", help="print each command's wall time")
    args = ap.parse_args()
    try:
        runs, figures = load_manifest(args.manifest)
        if args.only:
            unknown = set(args.only) - {f["name"] for f in figures}
            need(not unknown, args.manifest, f"--only: no figures named {sorted(unknown)}")
            figures = [f for f in figures if f["name"] in args.only]
        # Locate every figure before spending time on simulations: a stale template is
        # reported at once.
        docs, spans = {}, []
        for fig in figures:
            where = f"{fig['file']}: figure '{fig['name']}'"
            path = os.path.join(ROOT, fig["file"])
            if path not in docs:
                try:
                    with open(path, encoding="utf-8") as f:
                        docs[path] = f.read()
                except OSError as e:
                    raise ManifestError(f"{where}: cannot read {path}: {e.strerror}")
            found = list(template_regex(fig["text"], fig["values"]).finditer(docs[path]))
            need(len(found) == 1, where, f"the template matches {len(found)} places in the doc, not 1 "
                 "(has the prose changed? edit the manifest's \"text\")")
            spans.append((fig, path, found[0]))
        if not os.access(args.bpsim, os.X_OK):
            raise RunError(f"--bpsim {args.bpsim}: not an executable")
        used = {src["run"] for fig in figures for v in fig["values"].values() for src in v.get("vars", {"x": v}).values()}
        tmp = tempfile.mkdtemp(prefix="doc_figures.")
        try:
            results = run_all({r: runs[r] for r in sorted(used)}, os.path.abspath(args.bpsim), args.jobs, tmp,
                              args.verbose)
            edits = {}  # path -> [(start, end, new, figure, slot)]
            for fig, path, m in spans:
                for slot, v in fig["values"].items():
                    new = render(v, results, f"{fig['file']}: figure '{fig['name']}', value '{slot}'")
                    edits.setdefault(path, []).append((m.start(slot), m.end(slot), new, fig["name"], slot))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except ManifestError as e:
        print(f"doc_figures: bad manifest: {e}", file=sys.stderr)
        return 2
    except RunError as e:
        print(f"doc_figures: {e}", file=sys.stderr)
        return 3

    changed = 0
    for path, es in edits.items():
        text, rel = docs[path], os.path.relpath(path, ROOT)
        new_text, pos = [], 0
        for start, end, new, name, slot in sorted(es):
            old = text[start:end]
            if old != new:
                changed += 1
                line = text.count("\n", 0, start) + 1
                if "\n" in old or "\n" in new:
                    print(f"{rel}:{line}: figure '{name}' ({slot}): block differs (diff below)")
                else:
                    print(f"{rel}:{line}: figure '{name}' ({slot}): docs say {old!r}, bpsim gives {new!r}")
            new_text += [text[pos:start], new]
            pos = end
        new_text = "".join(new_text + [text[pos:]])
        if new_text == text:
            continue
        sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new_text.splitlines(True),
                                                   f"{rel} (docs)", f"{rel} (bpsim)", n=0))
        if args.update:
            with open(path, "w", encoding="utf-8") as f:
                f.write(new_text)
    total = sum(len(f["values"]) for f in figures)
    if args.update:
        print(f"doc_figures: {total} figures, {changed} updated")
        return 0
    if changed:
        print(f"doc_figures: {changed} of {total} figures differ from bpsim's output; "
              f"regenerate them with: python3 scripts/doc_figures.py --update --bpsim BUILD/bpsim", file=sys.stderr)
        return 1
    print(f"doc_figures: {total} figures agree with bpsim")
    return 0


if __name__ == "__main__":
    sys.exit(main())
