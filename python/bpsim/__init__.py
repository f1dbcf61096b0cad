"""bpsim from Python: the simulator's own C++ core, run in this process.

    import bpsim
    r = bpsim.run("configs/examples/resnet18_train_systolic.yaml", overrides={"accelerator.rows": 64})
    r.totals, r.phases, r.ops, r.energy_breakdown, r.memory

A run gives the same report.json and ops.csv as `bpsim run` (byte for byte); many runs share
one process. Bad input raises bpsim.InputError (file, line, key path, message). bpsim.plots
(matplotlib) draws sweeps, policy comparisons and rooflines; it needs no compiled module.
"""
import importlib

from .errors import InputError
from .report import Report

__all__ = ["run", "workload", "Report", "InputError", "plots", "__version__"]


def run(config, overrides=None, seed=None, base_dir=None):
    from . import runner

    return runner.run(config, overrides, seed, base_dir)


run.__doc__ = "Simulates CONFIG in this process and returns its Report (see bpsim.runner.run)."


def workload(spec, **flags):
    from . import runner

    return runner.workload(spec, **flags)


workload.__doc__ = "`bpsim workload SPEC --json` in this process, as a dict (see bpsim.runner.workload)."


def __getattr__(name):
    # The compiled core and matplotlib load when first used, so that the plots work from a
    # source checkout (scripts/plot_*.py) and `import bpsim` stays quick.
    if name == "__version__":
        return importlib.import_module("._core", __name__).version
    if name in ("plots", "runner"):
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'bpsim' has no attribute {name!r}")
