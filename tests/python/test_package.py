"""The bpsim package: configs as files and dicts, overrides and seeds as the CLI's --set, the
pandas views, errors as bpsim.InputError, bpsim.workload, and the plots."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from cli import ROOT, cli, cli_run  # noqa: E402

import bpsim  # noqa: E402

MLP = "configs/examples/mlp_train_systolic.yaml"


class Runs(unittest.TestCase):
    def setUp(self):
        os.chdir(ROOT)

    def test_overrides_and_seed_are_the_clis_set(self):
        report, ops = cli_run(MLP, ["accelerator.rows=16", "run.seed=7"])
        r = bpsim.run(MLP, overrides={"accelerator.rows": 16}, seed=7)
        self.assertEqual(r.json_text.encode(), report)
        self.assertEqual(r.ops_csv.encode(), ops)
        self.assertEqual(r["run"]["seed"], 7)
        # The same overrides as a list of assignments.
        self.assertEqual(bpsim.run(MLP, ["accelerator.rows=16", "run.seed=7"]).json_text, r.json_text)

    def test_dict_config_is_the_file_with_its_keys_merged(self):
        # A dict's include is relative to base_dir (default: the working directory); its other
        # keys deep-merge over the included files as a file's own keys do.
        report, _ = cli_run(MLP, ["accelerator.cols=8", "accelerator.dataflow=os"])
        cfg = {"include": [MLP], "accelerator": {"cols": 8, "dataflow": "os"}}
        r = bpsim.run(cfg)
        self.assertEqual(r.json_text.encode(), report)
        with tempfile.TemporaryDirectory() as elsewhere:
            os.chdir(elsewhere)
            self.assertEqual(bpsim.run(cfg, base_dir=ROOT).json_text.encode(), report)

    def test_pandas_views(self):
        r = bpsim.run(MLP)
        # .ops is ops.csv: one row per op entry of report.json, in its order.
        self.assertEqual(len(r.ops), len(r["ops"]))
        self.assertEqual(list(r.ops["name"]), [o["name"] for o in r["ops"]])
        self.assertEqual(int(r.ops["cycles"].sum()), sum(o["cycles"] for o in r["ops"]))
        # .phases in step order; their MACs add up to the run's (a law the engine checks too).
        self.assertEqual(list(r.phases.index)[0], "forward")
        self.assertEqual(int(r.phases["macs"].sum()), r["totals"]["macs"])
        self.assertEqual(r.totals["cycles"], r["totals"]["cycles"])
        # .energy_breakdown: pJ per action, largest first, adding up to the total energy.
        eb = r.energy_breakdown
        self.assertTrue((eb.diff().dropna() <= 0).all())
        self.assertAlmostEqual(eb.sum() / r["totals"]["energy_pj"], 1.0, places=9)
        self.assertEqual(r.memory["policy"], "none")
        with tempfile.TemporaryDirectory() as d:
            r.write(d)
            with open(os.path.join(d, "report.json")) as f:
                self.assertEqual(json.load(f), dict(r))

    def test_streamed_trace_and_ops_left_out_go_through_the_clis_spill(self):
        # A JSONL trace replayed on the systolic array is streamed (its ops spill to disk as
        # they finish, as in `bpsim run --trace`), and report_ops: none leaves the op entries
        # out of report.json: both take the CLI's file path, and give its bytes.
        trace = ['workload={trace: "traces/mlp_step.jsonl"}']
        report, ops = cli_run(MLP, trace)
        r = bpsim.run(MLP, trace)
        self.assertEqual(r.json_text.encode(), report)
        self.assertEqual(r.ops_csv.encode(), ops)
        self.assertNotIn("ops", r)  # auto: a streamed run keeps its ops in ops.csv alone
        self.assertEqual(r["op_count"], len(r.ops))
        report, ops = cli_run(MLP, ["run.report_ops=none"])
        r = bpsim.run(MLP, {"run.report_ops": "none"})
        self.assertEqual((r.json_text.encode(), r.ops_csv.encode()), (report, ops))
        self.assertEqual(r["op_count"], len(r.ops))


class ManyRuns(unittest.TestCase):
    def test_memory_stays_flat_over_many_runs(self):
        # Each run's simulation context is deleted after it (python/src/core.cpp): 100 runs
        # leave the resident set where 10 runs left it (a leaked context, with its thread
        # stacks, processes and events, would add megabytes), and the process exits cleanly
        # (test_python.sh fails on a crash at exit).
        os.chdir(ROOT)

        def rss_mb():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6

        for _ in range(10):
            bpsim.run(MLP)
        before = rss_mb()
        for _ in range(100):
            bpsim.run(MLP)
        self.assertLess(rss_mb() - before, 4.0)


class RtlBackend(unittest.TestCase):
    def test_verilated_blocks_run_again_in_one_process(self):
        # backend: rtl puts Verilated SystemC modules in the hierarchy: they too are rebuilt
        # in each run's fresh kernel, so a second and third run equal the CLI's.
        os.chdir(ROOT)
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "t.csv"), "w") as f:
                f.write("Layer, M, N, K,\ng1, 20, 12, 10,\ng2, 7, 16, 24,\n")
            cfg = os.path.join(d, "c.yaml")
            with open(cfg, "w") as f:
                f.write(f"include: [{ROOT}/configs/arch/systolic_32x32_int8.yaml, {ROOT}/configs/memory/ddr4_2400.yaml, "
                        f"{ROOT}/configs/energy/45nm.yaml]\n"
                        "accelerator: {rows: 8, cols: 8, timing: scalesim, backend: rtl}\nworkload: {scalesim: t.csv}\n")
            report, ops = cli_run(cfg)
            for _ in range(3):
                r = bpsim.run(cfg)
                self.assertEqual((r.json_text.encode(), r.ops_csv.encode()), (report, ops))
            self.assertEqual(bpsim.run(cfg, {"accelerator.backend": "model"})["totals"]["cycles"],
                             r["totals"]["cycles"])  # the RTL and the model agree on cycles (docs: rtl/README.md)


class Errors(unittest.TestCase):
    def setUp(self):
        os.chdir(ROOT)

    def test_bad_key_in_a_file_names_file_line_and_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(f"include: [{os.path.join(ROOT, MLP)}]\naccelerator:\n  rows: 16\n  rowz: 4\n")
        try:
            with self.assertRaises(bpsim.InputError) as e:
                bpsim.run(f.name)
            code, _, err = cli("run", f.name, "--out", os.path.join(tempfile.gettempdir(), "bpsim-py-never"))
        finally:
            os.unlink(f.name)
        self.assertEqual(code, 2)
        self.assertEqual("bpsim: " + str(e.exception), err.strip())  # the CLI's message, word for word
        self.assertEqual((e.exception.file, e.exception.line, e.exception.key), (f.name, 4, "accelerator.rowz"))
        self.assertIn("unknown key", e.exception.message)

    def test_bad_override_value(self):
        with self.assertRaises(bpsim.InputError) as e:
            bpsim.run(MLP, {"accelerator.rows": "many"})
        self.assertEqual(e.exception.key, "accelerator.rows")
        self.assertIsInstance(e.exception, ValueError)

    def test_missing_file(self):
        with self.assertRaises(bpsim.InputError):
            bpsim.run("configs/examples/no_such_config.yaml")

    def test_wrong_types(self):
        with self.assertRaises(TypeError):
            bpsim.run(42)
        with self.assertRaises(TypeError):
            bpsim.run(MLP, seed="1")
        with self.assertRaises(TypeError):
            bpsim.run(MLP, ["accelerator.rows"])

    def test_a_refused_run_leaves_the_next_one_intact(self):
        # An error after the hierarchy is built still frees the kernel for the next run.
        with self.assertRaises(bpsim.InputError):
            bpsim.run(MLP, {"accelerator.sram.input_kib": 0})
        report, _ = cli_run(MLP)
        self.assertEqual(bpsim.run(MLP).json_text.encode(), report)


class Workload(unittest.TestCase):
    def test_workload_is_the_clis_json(self):
        os.chdir(ROOT)
        spec = "configs/workloads/mlp.yaml"
        code, out, _ = cli("workload", spec, "--json", "--policy", "checkpoint")
        self.assertEqual(code, 0)
        self.assertEqual(bpsim.workload(spec, policy="checkpoint"), json.loads(out))
        with self.assertRaises(bpsim.InputError):
            bpsim.workload(spec, policy="no_such_policy")


class Plots(unittest.TestCase):
    def test_sweep_plot_adapts_to_the_sweep(self):
        import pandas as pd

        from bpsim import plots

        base = {"status": "ok", "seconds": 1e-3, "energy_pj": 1e9, "macs": 0, "macs_executed": 0,
                "macs_gated": 0, "dram_read_bytes": 1000, "dram_write_bytes": 0, "onchip_read_bytes": 0,
                "onchip_write_bytes": 0, "saved_after_forward_bytes": 0, "peak_bytes": 0, "recompute_macs": 0,
                "cycles": 1000, "index": 0, "hash": "x", "error": ""}
        dram = pd.DataFrame([dict(base, **{"memory.tck_ns": t, "accelerator.pattern": p,
                                            "seconds": t * 1e-3 * (2 if p == "random" else 1)})
                             for t in (0.625, 0.833) for p in ("stream", "random")])
        fig = plots.sweep(dram)
        labels = [a.get_ylabel() + a.get_xlabel() for a in fig.axes]
        self.assertTrue(any("bandwidth" in s for s in labels), labels)  # a DRAM sweep shows bandwidth
        self.assertFalse(any("latency" in s for s in labels), labels)
        # A compute sweep where no policy moves memory: the right panel is latency against an axis.
        comp = pd.DataFrame([dict(base, **{"accelerator.rows": n, "accelerator.cols": n, "macs": 10**9,
                                            "seconds": 1.0 / n, "energy_pj": 1e9 * (1 + n / 64)})
                             for n in (16, 32, 64, 128)])
        fig = plots.sweep(comp)
        self.assertEqual(fig.axes[1].get_xlabel(), "accelerator.rows")  # cols is rows' zip partner: left out
        self.assertEqual(fig.axes[1].get_ylabel(), "latency (ms)")
        self.assertEqual(plots.sweep_axes(comp), ["accelerator.rows"])

    def test_roofline_uses_the_reports_roof_when_it_has_one(self):
        os.chdir(ROOT)
        from bpsim import plots

        r = bpsim.run(MLP)
        fig = plots.roofline(r)
        title = fig.axes[0].get_title()
        self.assertIn("roofline", title)
        if "roofline" in r:
            self.assertIn("the accelerator's peaks", title)


if __name__ == "__main__":
    unittest.main(verbosity=2)
