"""The in-process runs are the CLI's runs: every example config, run twice in this one process
(SystemC's kernel made fresh between runs, python/src/core.cpp), gives report.json and ops.csv
byte for byte as `bpsim run` writes them, and so does a second pass over all of them after
the others ran (no state carried from one model to the next).

BPSIM_PY_QUICK=1 (the ctest case): the three mesh examples that take 20-80 s each run at a
size the same overrides shrink for both sides (QUICK below); everything else as shipped."""
import glob
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from cli import ROOT, cli_run  # noqa: E402

import bpsim  # noqa: E402

QUICK = {  # a --set path is relative to the working directory (ROOT)
    "gpt2_block_train_mesh": ["workload.spec=configs/workloads/mlp.yaml"],
    "mesh_synthetic_uniform": ["accelerator.traffic.measure_cycles=10000"],
    "resnet18_train_mesh": ["workload.spec=configs/workloads/lenet5.yaml"],
}


class EveryExampleTwice(unittest.TestCase):
    def test_every_example_twice_equals_cli(self):
        os.chdir(ROOT)
        quick = os.environ.get("BPSIM_PY_QUICK") == "1"
        configs = sorted(glob.glob("configs/examples/*.yaml"))
        self.assertGreaterEqual(len(configs), 18)
        want = {}
        for c in configs:
            name = os.path.splitext(os.path.basename(c))[0]
            sets = QUICK.get(name, []) if quick else []
            want[c] = (sets, cli_run(c, sets))
        for rnd in (1, 2):
            for c in configs:
                sets, (report, ops) = want[c]
                with self.subTest(config=c, round=rnd):
                    r = bpsim.run(c, sets)
                    self.assertEqual(r.json_text.encode(), report, f"{c}: report.json differs (round {rnd})")
                    self.assertEqual(r.ops_csv.encode(), ops, f"{c}: ops.csv differs (round {rnd})")


if __name__ == "__main__":
    unittest.main(verbosity=2)
