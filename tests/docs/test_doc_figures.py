#!/usr/bin/env python3
"""Tests of scripts/doc_figures.py: the check can fail, names what differs, --update repairs
it, and a bad manifest is exit 2 naming the file and entry.

    python3 tests/docs/test_doc_figures.py --bpsim build/bpsim
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "doc_figures.py")
HERE = os.path.join(ROOT, "tests", "docs")
BPSIM = None  # set from --bpsim


def doc_figures(mode, manifest):
    return subprocess.run([sys.executable, SCRIPT, mode, "--bpsim", BPSIM, "--manifest", manifest],
                          cwd=ROOT, capture_output=True, text=True)


class DocFigures(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_doc_figures.")
        with open(os.path.join(HERE, "figures.json"), encoding="utf-8") as f:
            self.manifest = json.load(f)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write_manifest(self, m):
        path = os.path.join(self.tmp, "figures.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(m, f)
        return path

    def test_check_fails_on_a_stale_figure(self):
        p = doc_figures("--check", os.path.join(HERE, "figures.json"))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        # file:line, the figure, the old text and bpsim's
        self.assertIn("tests/docs/stale_figure.md:9: figure 'mlp_step_trace' (ops): docs say '0', bpsim gives '",
                      p.stdout)
        self.assertIn("-| `mlp_step.jsonl` | mlp | 64 | 0 |", p.stdout)
        self.assertIn("differ from bpsim's output", p.stderr)

    def test_update_repairs_the_doc(self):
        doc = os.path.join(self.tmp, "stale_figure.md")
        shutil.copy(os.path.join(HERE, "stale_figure.md"), doc)
        self.manifest["figures"][0]["file"] = doc  # absolute: the copy, not the checked-in file
        manifest = self.write_manifest(self.manifest)
        p = doc_figures("--update", manifest)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(doc, encoding="utf-8") as f:
            self.assertNotIn("| 64 | 0 |", f.read())
        p = doc_figures("--check", manifest)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_bad_manifest_is_exit_2_naming_the_entry(self):
        self.manifest["figures"][0]["values"]["ops"]["run"] = "no_such_run"
        p = doc_figures("--check", self.write_manifest(self.manifest))
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("figure 'mlp_step_trace', value 'ops'", p.stderr)
        self.assertIn("no_such_run", p.stderr)

    def test_template_that_no_longer_matches_is_exit_2(self):
        self.manifest["figures"][0]["text"] = "| `mlp_step.jsonl` | mlp | 128 | {ops} | {macs} |"
        p = doc_figures("--check", self.write_manifest(self.manifest))
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("tests/docs/stale_figure.md: figure 'mlp_step_trace': the template matches 0 places", p.stderr)

    def test_failing_command_is_exit_3(self):
        self.manifest["runs"]["check_mlp_step"]["cmd"][-1] = "traces/no_such_trace.jsonl"
        p = doc_figures("--check", self.write_manifest(self.manifest))
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("run 'check_mlp_step'", p.stderr)


if __name__ == "__main__":
    import bpsim_main

    bpsim_main.main(sys.modules[__name__])
