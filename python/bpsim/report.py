"""bpsim.Report: one run's report.json as Python objects, with pandas views of its tables."""
import io
import json


class Report(dict):
    """The run's report.json (a dict: report["totals"]["cycles"], …, docs/report.md), plus:

    .ops              DataFrame, one row per op: ops.csv's columns and rows
    .phases           DataFrame, one row per phase in step order (forward, …, update): its counts
    .energy_breakdown Series, pJ per energy action of the whole run, largest first
    .totals           Series, the run's totals (cycles, seconds, energy_pj, macs, DRAM bytes, …)
    .memory           dict, the memory policy's accounting (peak_bytes, saved_after_forward_bytes, …)
    .json_text        the exact bytes `bpsim run` writes into report.json (str)
    .ops_csv          the exact bytes of ops.csv (str)
    """

    def __init__(self, report_json, ops_csv):
        text = report_json.decode("utf-8") if isinstance(report_json, bytes) else report_json
        super().__init__(json.loads(text))
        self.json_text = text
        self.ops_csv = ops_csv.decode("utf-8") if isinstance(ops_csv, bytes) else ops_csv
        self._ops = None

    @property
    def ops(self):
        import pandas as pd

        if self._ops is None:
            self._ops = pd.read_csv(io.StringIO(self.ops_csv))
        return self._ops

    @property
    def phases(self):
        import pandas as pd

        # In step order (the order the phases' first ops ran), not report.json's sorted keys.
        seen = list(dict.fromkeys(self.ops["phase"])) if len(self.ops) else []
        names = [p for p in seen if p in self["phases"]] + sorted(p for p in self["phases"] if p not in seen)
        rows = {n: {k: v for k, v in self["phases"][n].items() if not isinstance(v, dict)} for n in names}
        return pd.DataFrame.from_dict(rows, orient="index")

    @property
    def energy_breakdown(self):
        import pandas as pd

        s = pd.Series(self.get("energy_breakdown_pj", {}), name="energy_pj", dtype=float)
        return s.sort_values(ascending=False)

    @property
    def totals(self):
        import pandas as pd

        return pd.Series({k: v for k, v in self["totals"].items() if not isinstance(v, dict)}, name="total")

    @property
    def memory(self):
        return self.get("memory", {})

    def write(self, folder):
        """Writes report.json and ops.csv into `folder` (created), as `bpsim run --out` does."""
        import os

        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "report.json"), "w", encoding="utf-8", newline="") as f:
            f.write(self.json_text)
        with open(os.path.join(folder, "ops.csv"), "w", encoding="utf-8", newline="") as f:
            f.write(self.ops_csv)

    def __repr__(self):
        t = self.get("totals", {})
        return (f"<bpsim.Report {self.get('accelerator', '?')}: {t.get('cycles', '?')} cycles, "
                f"{t.get('seconds', 0):.6g} s, {t.get('energy_pj', 0) * 1e-12:.6g} J>")
