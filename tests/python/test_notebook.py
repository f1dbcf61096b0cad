"""examples/quickstart.ipynb runs from top to bottom (its code cells, in order, in one
namespace: no Jupyter kernel needed), and its policy table is the README's `bpsim compare`
table of ResNet-18: every figure equal at the README's four significant digits."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from cli import ROOT  # noqa: E402

import nbformat  # noqa: E402

# Multipliers of the units the README's tables print (decimal, as the console).
UNITS = {"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "J": 1, "mJ": 1e-3, "µJ": 1e-6,
         "s": 1, "ms": 1e-3, "µs": 1e-6, "%": 1e-2}


def readme_policy_table():
    """policy -> [peak, saved@fwd, DRAM, energy, latency, recompute] in bytes, J, s and a share."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    at = text.index("configs/examples/resnet18_compare_policies.yaml` (ResNet-18")
    block = text[text.index("```", at) + 3:]
    block = block[:block.index("```")]
    rows = {}
    for line in block.strip().splitlines()[1:]:
        name, rest = line.split(None, 1)
        rows[name] = [float(v) * UNITS[u] for v, u in re.findall(r"([0-9.]+) ?(%|[a-zA-Zµ]+)", rest)]
    return rows


class Quickstart(unittest.TestCase):
    def test_notebook_runs_and_reproduces_the_readme(self):
        os.chdir(ROOT)
        nb = nbformat.read(os.path.join(ROOT, "examples", "quickstart.ipynb"), as_version=4)
        ns = {"__name__": "__quickstart__"}
        for cell in nb.cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, "quickstart.ipynb", "exec"), ns)
        table = ns["table"]
        want = readme_policy_table()
        self.assertEqual(list(table.index), list(want))
        cols = ["peak_bytes", "saved_bytes", "dram_bytes", "energy_j", "seconds", "recompute"]
        for policy, figures in want.items():
            self.assertEqual(len(figures), 6, policy)
            for col, shown in zip(cols, figures):
                got = float(table.loc[policy, col])
                with self.subTest(policy=policy, column=col):
                    # The README rounds to 4 significant digits (recompute: 0.1 percentage point).
                    tol = 0.0005 if col == "recompute" else abs(shown) * 5e-4 + 1e-12
                    self.assertLessEqual(abs(got - shown), tol, f"{policy} {col}: {got} vs README {shown}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
