#!/usr/bin/env python3
"""Tests of scripts/bench_targets.py: it reads the figures the benchmark scripts print (so a
script whose output changes fails here, not silently in a later measurement), a benchmark
that fails is exit 2 naming it, a peer not given is listed as not run, and a bad --only is a
usage error. The figures themselves are not judged: this machine's speed is not the test.

    python3 tests/scripts/test_bench_targets.py --build build
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "bench_targets.py")
BUILD = None  # set from --build
# A table row: what, figure, unit, target, verdict.
ROW = re.compile(r"^  (.+?)\s+([0-9.]+) (ms|s|x|MiB)\s+target (≤|≥) ([0-9.]+) (ms|s|x|MiB)\s+(met|NOT MET)$")


def bench_targets(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], cwd=ROOT, capture_output=True, text=True)


class BenchTargets(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="test_bench_targets.")
        self.log = os.path.join(self.tmp.name, "bench.log")

    def tearDown(self):
        self.tmp.cleanup()

    def test_reads_every_figure_of_the_scripts_it_runs(self):
        r = bench_targets("--build", BUILD, "--quick", "--only", "start,lenet", "--log", self.log)
        self.assertIn(r.returncode, (0, 1), r.stdout + r.stderr)  # met or not, but read
        rows = [m.groups() for m in map(ROW.match, r.stdout.splitlines()) if m]
        self.assertEqual([row[0].split(",")[0] for row in rows],
                         ["--version", "smallest run", "LeNet-5 step", "LeNet-5 step"], r.stdout)
        for what, value, unit, op, target, unit2, verdict in rows:
            self.assertEqual(unit, unit2, what)
            self.assertGreater(float(value), 0, what)
            met = float(value) <= float(target) if op == "≤" else float(value) >= float(target)
            self.assertEqual(verdict, "met" if met else "NOT MET", what)
        # The exit code follows the verdicts.
        self.assertEqual(r.returncode, 1 if any(row[6] == "NOT MET" for row in rows) else 0)
        with open(self.log, encoding="utf-8") as f:
            log = f.read()
        self.assertIn("$ bash scripts/bench_start.sh", log)
        self.assertIn("scripts/time_process.py", log)

    def test_a_failing_benchmark_is_exit_2_naming_it(self):
        fake = os.path.join(self.tmp.name, "build")
        os.mkdir(fake)
        with open(os.path.join(fake, "bpsim"), "w") as f:
            f.write("#!/bin/sh\nexit 3\n")
        os.chmod(os.path.join(fake, "bpsim"), 0o755)
        r = bench_targets("--build", fake, "--quick", "--only", "start", "--log", self.log)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"  start\s+FAILED: bench_start.sh exited with 1: time_process: .* failed: exit 3")

    def test_a_peer_not_given_is_not_run(self):
        r = bench_targets("--build", BUILD, "--only", "booksim,dramsim3", "--log", self.log)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"  booksim\s+not run: --booksim DIR not given")
        self.assertRegex(r.stdout, r"  dramsim3\s+not run: --dramsim3 DIR not given")

    def test_an_unknown_benchmark_is_a_usage_error(self):
        r = bench_targets("--build", BUILD, "--only", "start,booksim2")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--only: unknown benchmark 'booksim2' (valid: start, scalesim, booksim", r.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "--build":
        sys.exit(__doc__)
    BUILD = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], *sys.argv[3:]])
