#!/usr/bin/env python3
"""report.html in a real headless browser (Debian's chromium, driven by chromedriver through
python3-selenium, all from scripts/setup.sh), with the network cut off.

For a systolic, a mesh and a PIM run, a compare and a sweep, the page must load without a
console message of level SEVERE, fetch nothing, draw its charts, sort a table when a header
is clicked, and every number it tags (data-key: a JSON pointer into report.json, or into
the rows of results.jsonl for a sweep or compare) must be shown as that value: the text
read from the rendered page, parsed with its SI prefix and unit, equals the JSON's value
within the page's rounding (four significant digits), and data-value equals it exactly.

Without chromium, chromedriver or selenium the test FAILS; a local run may skip it (exit
77, reported by ctest as skipped) with BPSIM_SKIP_BROWSER=1, never under CI=true.

usage: test_report_html.py --bpsim build/bpsim
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
SKIP = 77

PREFIX = {"p": 1e-12, "n": 1e-9, "µ": 1e-6, "u": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "K": 1e3, "M": 1e6,
          "G": 1e9, "T": 1e12, "P": 1e15}


def missing(what):
    if os.environ.get("BPSIM_SKIP_BROWSER") == "1" and os.environ.get("CI") != "true":
        print(f"browser test skipped (BPSIM_SKIP_BROWSER=1): {what}")
        sys.exit(SKIP)
    sys.exit(f"browser test: {what} (bash scripts/setup.sh installs chromium, chromium-driver and "
             "python3-selenium; a local run may skip with BPSIM_SKIP_BROWSER=1)")


def shown_value(text, unit):
    """The number a cell shows, in the unit's base: '22.11 mJ' with unit J -> 0.02211."""
    text = text.strip().replace("\u2009", " ")
    m = re.fullmatch(r"(-?[0-9][0-9,]*(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?)\s*(\S*)", text)
    if not m:
        raise AssertionError(f"not a number: {text!r}")
    number, suffix = float(m.group(1).replace(",", "")), m.group(2)
    if unit == "":
        if suffix:
            raise AssertionError(f"{text!r}: a plain number has no unit")
        return number
    if unit == "%":
        if suffix != "%":
            raise AssertionError(f"{text!r}: expected a percentage")
        return number
    if not suffix.endswith(unit) or suffix[: -len(unit)] not in PREFIX:
        raise AssertionError(f"{text!r}: expected an SI prefix and {unit}")
    return number * PREFIX[suffix[: -len(unit)]]


def lookup(doc, pointer):
    node = doc
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def check_page(driver, page, doc, label):
    """Loads `page` and checks it against `doc`; returns the number of tagged values."""
    driver.get(page.as_uri())
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{label}: console errors {errors}"
    fetched = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not fetched, f"{label}: the page fetched {fetched}"
    # Folded sections are opened, as a reader would, so that their numbers are rendered too.
    cells = driver.execute_script("""
        document.querySelectorAll('details').forEach(d => d.open = true);
        return Array.from(document.querySelectorAll('[data-key]')).map(e => [
            e.dataset.key, e.dataset.value, e.dataset.unit || '', parseFloat(e.dataset.scale || '1'),
            e.innerText, e.getClientRects().length > 0]);""")
    assert cells, f"{label}: no tagged numbers"
    for key, value, unit, scale, text, visible in cells:
        want = lookup(doc, key)
        got = json.loads(value)
        assert got == want, f"{label}: {key}: data-value {got!r}, report.json {want!r}"
        assert visible, f"{label}: {key} is not rendered"
        if want is None:
            assert text.strip() == "—", f"{label}: {key}: null shown as {text!r}"
            continue
        shown = shown_value(text, unit)
        expect = want * scale
        if unit == "" and isinstance(want, int):
            assert shown == want, f"{label}: {key}: shows {text!r}, report.json {want}"
        else:
            # Four significant digits: off by at most half a unit in the fourth, 5e-4 of the value.
            assert abs(shown - expect) <= 6e-4 * abs(expect), \
                f"{label}: {key}: shows {text!r} = {shown}, report.json {want} (x{scale} = {expect})"
    # The charts are drawn: every SVG has a size and marks in it.
    svgs = driver.execute_script("""
        return Array.from(document.querySelectorAll('svg')).map(s => [s.getAttribute('aria-label'),
            s.getBoundingClientRect().width, s.querySelectorAll('rect,circle,polyline,line').length]);""")
    for name, width, marks in svgs:
        assert width > 100 and marks > 0, f"{label}: chart {name!r} is empty ({width} px, {marks} marks)"
    return len(cells), [s[0] for s in svgs]


def check_sort(driver, table_id, col, label):
    """Clicking a header sorts the table by that column (the page's script runs)."""
    before = driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{table_id} tbody tr')).length")
    driver.execute_script(f"document.querySelectorAll('#{table_id} th')[{col}].click()")
    values = driver.execute_script(f"""
        return Array.from(document.querySelectorAll('#{table_id} tbody tr')).map(r => {{
            const c = r.cells[{col}], v = 'value' in c.dataset ? c : c.querySelector('[data-value]');
            return parseFloat(v ? v.dataset.value : c.textContent); }});""")
    assert len(values) == before and values == sorted(values, reverse=True), \
        f"{label}: #{table_id} not sorted by column {col} after a click: {values}"


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"browser test: {' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stderr}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bpsim", required=True)
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_exe = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not chromium:
        missing("chromium not found")
    if not os.path.exists(driver_exe):
        missing("chromedriver not found")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing(f"selenium cannot be imported by {sys.executable}")

    examples = ROOT / "configs" / "examples"
    with tempfile.TemporaryDirectory(prefix="bpsim_browser_") as tmp:
        tmp = pathlib.Path(tmp)
        runs = {"systolic": "mlp_train_systolic", "mesh": "mlp_train_mesh", "pim": "pim_mlp_host"}
        for label, name in runs.items():
            run([args.bpsim, "run", examples / f"{name}.yaml", "--quiet", "--out", tmp / label])
        run([args.bpsim, "compare", examples / "mlp_compare_policies.yaml", "--no-plot", "--out", tmp / "compare",
             "--policies", "none,checkpoint,evaluation"])
        sweep = tmp / "sweep.yaml"
        sweep.write_text(f"base: {examples / 'mlp_train_systolic.yaml'}\n"
                         "axes:\n  accelerator.rows: [16, 32]\n  workload.batch: [32, 64]\n")
        run([args.bpsim, "sweep", sweep, "--out", tmp / "sweep"])

        opts = webdriver.ChromeOptions()
        opts.binary_location = chromium
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  # No network: every host resolves to nothing and any proxy use fails.
                  "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
                  "--window-size=1280,2000"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(driver_exe), options=opts)
        checked = 0
        try:
            for label in runs:
                doc = json.loads((tmp / label / "report.json").read_text())
                n, charts = check_page(driver, tmp / label / "report.html", doc, label)
                for chart in ("energy by component", "live memory over the step", "op timeline"):
                    assert chart in charts, f"{label}: no {chart!r} chart (charts: {charts})"
                check_sort(driver, "layer-table", 2, label)
                print(f"{label}: {n} numbers equal report.json's, charts {charts}")
                checked += n
            for label in ("compare", "sweep"):
                results = tmp / label / ("runs" if label == "compare" else "") / "results.jsonl"
                rows = [json.loads(line) for line in results.read_text().splitlines() if line]
                n, charts = check_page(driver, tmp / label / "report.html", rows, label)
                assert "Pareto front" in charts, f"{label}: no Pareto chart"
                assert n == 6 * len(rows), f"{label}: {n} tagged numbers for {len(rows)} points"
                # A point's link opens its own page, itself checked.
                link = driver.execute_script("return document.querySelector('#points-table a').href")
                driver.get(link)
                assert driver.find_element("id", "summary"), f"{label}: the point's page has no summary"
                print(f"{label}: {n} numbers equal results.jsonl's")
                checked += n
        finally:
            driver.quit()
    print(f"browser: {checked} numbers checked on {len(runs) + 2} pages")


if __name__ == "__main__":
    main()
