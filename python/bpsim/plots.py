"""Plots of bpsim results (matplotlib): a sweep's trade-offs, a policy comparison's memory over
time, a run's roofline. Each function takes results (a path or a pandas object), writes a PNG
when given `output`, and returns the matplotlib Figure.

Units are decimal everywhere, as the console and the tables print them: MB = 10^6 bytes,
GB/s = 10^9 bytes per second, mJ = 10^-3 J, ms = 10^-3 s.
"""
import matplotlib.pyplot as plt  # without a display, matplotlib renders to files (Agg)
import pandas as pd

# results.csv columns that are not sweep axes (sim/sweep/sweep_runner.cpp writes them).
RESULT_COLUMNS = {"index", "hash", "status", "cycles", "seconds", "energy_pj", "macs", "macs_executed",
                  "macs_gated", "macs_skipped", "dram_read_bytes", "dram_write_bytes", "onchip_read_bytes",
                  "onchip_write_bytes", "saved_after_forward_bytes", "peak_bytes", "recompute_macs", "error"}


def pareto(df, x, y, maximise_x=False):
    """Rows of df not dominated in (x, y): y minimised, x minimised (or maximised), sorted by x."""
    pts = df.sort_values([x, y], ascending=[not maximise_x, True])
    keep, best = [], float("inf")
    for i, row in pts.iterrows():
        if row[y] < best:
            keep.append(i)
            best = row[y]
    spots = set(zip(df.loc[keep, x], df.loc[keep, y]))  # points tied with a front point are on it too
    return df[[(px, py) in spots for px, py in zip(df[x], df[y])]].sort_values(x)


def sweep_axes(df):
    """The sweep's axes (columns that are not results), without one that varies one-to-one with
    an earlier one (a zip partner, e.g. cols with rows) or does not vary at all."""
    axes = [c for c in df.columns if c not in RESULT_COLUMNS and not c.startswith("_")]
    kept = []
    for a in axes:
        if df[a].nunique() < 2:
            continue
        if any(df.groupby(b)[a].nunique().max() == 1 and df.groupby(a)[b].nunique().max() == 1 for b in kept):
            continue
        kept.append(a)
    return kept


def _short(axis):
    return axis.split(".")[-1]


def _label(row, axes):
    return ", ".join(f"{_short(a)}={row[a]}" for a in axes)


def _numbered(ax, df, x, y, axes, key):
    """Numbers the points of df on the plot (points at the same spot share one number) and
    appends "n: label" to key, so that long labels never overprint the data. Each number takes
    the first of a ring of offsets where it overlaps no number placed before it."""
    spots = {}
    for _, row in df.iterrows():
        spots.setdefault((row[x], row[y]), []).append(_label(row, axes))
    ax.figure.canvas.draw_idle()
    to_px = ax.transData.transform
    scale = ax.figure.dpi / 72.0
    placed = getattr(ax, "_bpsim_labels", [])
    rings = [(4, 4), (4, -11), (-14, 4), (-14, -11), (4, 14), (-14, 14), (4, -21), (-14, -21), (16, -4), (-26, -4)]
    for (px, py), labels in spots.items():
        n = len(key) + 1
        key.append(f"{n}: " + "; ".join(labels))
        cx, cy = to_px((px, py))
        w, h = 6 * len(str(n)) * scale, 9 * scale
        for dx, dy in rings:
            box = (cx + dx * scale, cy + dy * scale, cx + dx * scale + w, cy + dy * scale + h)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                break
        placed.append(box)
        ax.annotate(str(n), (px, py), fontsize=8, xytext=(dx, dy), textcoords="offset points",
                    arrowprops={"arrowstyle": "-", "color": "0.5", "linewidth": 0.5} if (dx, dy) != (4, 4) else None)
    ax._bpsim_labels = placed


def _front_panel(ax, df, x, y, xlabel, ylabel, axes, key, group=None, maximise_x=False):
    ax.scatter(df[x], df[y], s=14, color="0.6", label=f"points ({len(df)})")
    groups = [(None, df)] if group is None else list(df.groupby(group, sort=True))
    for i, (value, part) in enumerate(groups):
        front = pareto(part, x, y, maximise_x)
        name = "Pareto front" if value is None else f"front, {_short(group)}={value}"
        ax.plot(front[x], front[y], "o-", color=f"C{(i + 3) % 10}", label=name)
        _numbered(ax, front, x, y, [a for a in axes if a != group], key)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def _axis_panel(ax, df, metric, ylabel, axes):
    """metric against the first numeric axis (else the first axis), one line per combination of
    the others: how each axis moves the result when no trade-off front has more than one point."""
    numeric = [a for a in axes if pd.api.types.is_numeric_dtype(df[a])]
    xaxis = numeric[0] if numeric else axes[0]
    rest = [a for a in axes if a != xaxis]
    parts = [(None, df)] if not rest else list(df.groupby(rest if len(rest) > 1 else rest[0], sort=True))
    for i, (value, part) in enumerate(parts):
        part = part.sort_values(xaxis)
        values = value if isinstance(value, tuple) else (value,)
        name = ", ".join(f"{_short(a)}={v}" for a, v in zip(rest, values)) if rest else metric
        ax.plot(part[xaxis].astype(str) if xaxis not in numeric else part[xaxis], part[metric], marker="o",
                color=f"C{i % 10}", linestyle=["-", "--", "-.", ":"][i % 4], label=name)
    ax.set_xlabel(xaxis)
    ax.set_ylabel(ylabel)
    if xaxis in numeric and df[xaxis].min() > 0 and df[xaxis].max() / df[xaxis].min() >= 8:
        ax.set_xscale("log", base=2)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=1 + len(parts) // 12)


def sweep(results, output=None, group=None, title=None):
    """The trade-offs of a sweep (results.csv of `bpsim sweep`, or its DataFrame).

    A sweep of compute (points with MACs): energy against latency with its Pareto front; then
    peak memory against recompute overhead when a memory policy varies them, else latency
    against the sweep's axes. A DRAM sweep (no MACs): achieved bandwidth per point and energy
    per byte against bandwidth, with its front. `group`: an axis whose values get a front each
    (points of different batch sizes do different work)."""
    df = pd.read_csv(results) if not isinstance(results, pd.DataFrame) else results.copy()
    name = title or (str(results) if not isinstance(results, pd.DataFrame) else "sweep")
    ok = df[df["status"] == "ok"].copy()
    if ok.empty:
        raise ValueError(f"{name}: no successful points")
    axes = sweep_axes(ok) if len(ok) > 1 else [c for c in df.columns if c not in RESULT_COLUMNS]
    if group is not None and group not in df.columns:
        raise ValueError(f"{name}: group {group} is not an axis of this sweep ({', '.join(axes)})")
    if group is not None and group not in axes:
        axes.append(group)
    key = []
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5.5))
    if ok["macs"].sum() == 0 and (ok["dram_read_bytes"] + ok["dram_write_bytes"]).sum() > 0:
        ok["bandwidth_gbs"] = (ok["dram_read_bytes"] + ok["dram_write_bytes"]) / ok["seconds"] * 1e-9
        ok["pj_per_byte"] = ok["energy_pj"] / (ok["dram_read_bytes"] + ok["dram_write_bytes"])
        _axis_panel(a, ok, "bandwidth_gbs", "achieved DRAM bandwidth (GB/s)", axes)
        _front_panel(b, ok, "bandwidth_gbs", "pj_per_byte", "achieved DRAM bandwidth (GB/s)",
                     "energy per byte moved (pJ/B)", axes, key, group, maximise_x=True)
    else:
        ok["latency_ms"] = ok["seconds"] * 1e3
        ok["energy_mj"] = ok["energy_pj"] * 1e-9
        _front_panel(a, ok, "latency_ms", "energy_mj", "latency (ms)", "energy (mJ)", axes, key, group)
        # Recompute overhead: MACs spent recomputing over the step's other MACs (0 without a policy).
        ok["recompute_overhead"] = ok["recompute_macs"] / (ok["macs"] - ok["recompute_macs"])
        ok["peak_mb"] = ok["peak_bytes"] * 1e-6
        if ok["peak_mb"].nunique() > 1 or ok["recompute_overhead"].nunique() > 1:
            _front_panel(b, ok, "recompute_overhead", "peak_mb", "recompute overhead (extra MACs, fraction)",
                         "peak memory (MB)", axes, key, group)
        else:
            _axis_panel(b, ok, "latency_ms", "latency (ms)", axes)
    fig.suptitle(f"{name}: {len(ok)} points" + (f" ({len(df) - len(ok)} failed)" if len(ok) < len(df) else ""))
    rows = max(1, (len(key) + 2) // 3)
    if key:
        fig.text(0.01, 0.01, "\n".join("    ".join(key[i::rows]) for i in range(rows)), fontsize=7,
                 family="monospace", va="bottom")
    fig.tight_layout(rect=(0, min(0.45, 0.025 * rows + 0.02) if key else 0, 1, 1))
    if output:
        fig.savefig(output, dpi=120)
    return fig


def compare(timeline, output=None):
    """Live memory over one training step, one line per memory policy (or per variant), from the
    timeline.csv `bpsim compare` writes (live bytes while each op runs, at its simulated start and
    end); its first column, `policy` or `variant`, names the lines."""
    df = pd.read_csv(timeline) if not isinstance(timeline, pd.DataFrame) else timeline
    if df.empty:
        raise ValueError(f"{timeline}: no rows")
    by = df.columns[0]
    fig, ax = plt.subplots(figsize=(9, 5))
    styles = ["-", "--", "-.", ":"]
    for n, (policy, ops) in enumerate(df.groupby(by, sort=False)):
        xs, ys = [], []
        for start, end, live in zip(ops["start_s"], ops["end_s"], ops["live_bytes"]):
            xs += [start * 1e3, end * 1e3]
            ys += [live * 1e-6, live * 1e-6]
        # Policies that make the same choice draw the same line; the dashes keep each visible.
        ax.plot(xs, ys, label=policy, linewidth=1.4, linestyle=styles[n % len(styles)])
    ax.set_xlabel("time in the step (ms)")
    ax.set_ylabel("live memory (MB)")
    ax.set_title(f"memory over one training step, per {by}")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if output:
        fig.savefig(output, dpi=120)
    return fig


def roofline(report, output=None):
    """Each op of a run at its arithmetic intensity (MACs per DRAM byte) and achieved rate
    (GMAC/s), under the accelerator's roof: min(peak GMAC/s, intensity × peak DRAM GB/s).
    The roof comes from the report's "roofline" object (docs/report.md); a report without one
    gets the highest rates its ops reached instead (a lower bound of the true roof, said so in
    the title)."""
    ops = report.ops if hasattr(report, "ops") else pd.DataFrame(report["ops"])
    clock_ghz = float(report["clock_ghz"])
    ops = ops[(ops["macs_executed"] > 0) & (ops["cycles"] > 0)].copy()
    dram = ops["dram_read_bytes"] + ops["dram_write_bytes"]
    # The report's own figures where it has them; the same definitions from the counts otherwise.
    ops["x"] = ops["macs_executed"] / dram.where(dram > 0)
    ops["y"] = ops["macs_executed"] / (ops["cycles"] / clock_ghz)  # MACs per ns = GMAC/s
    ops = ops[ops["x"].notna()]
    if ops.empty:
        raise ValueError("roofline: the run has no op with both MACs and DRAM traffic")
    roof = report.get("roofline") if isinstance(report, dict) else None
    if isinstance(roof, dict) and roof.get("peak_gmacs_per_s") and roof.get("peak_dram_gbps"):
        peak, bw, src = float(roof["peak_gmacs_per_s"]), float(roof["peak_dram_gbps"]), "the accelerator's peaks"
    else:
        peak = ops["y"].max()
        bw = (dram.loc[ops.index] / (ops["cycles"] / clock_ghz)).max()
        src = "the highest rates its ops reached (no roofline in the report)"
    ridge = peak / bw
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for i, (phase, part) in enumerate(ops.groupby("phase", sort=False)):
        ax.scatter(part["x"], part["y"], s=12, color=f"C{i}", label=phase, alpha=0.8)
    lo = min(ops["x"].min(), ridge) / 4
    hi = max(ops["x"].max(), ridge) * 4
    xs = [lo * (hi / lo) ** (k / 200) for k in range(201)]
    ax.plot(xs, [min(peak, bw * x) for x in xs], "k-", linewidth=1.5, label="roof")
    ax.axvline(ridge, color="0.6", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (MACs per DRAM byte)")
    ax.set_ylabel("achieved GMAC/s")
    ax.set_title(f"roofline, {report.get('accelerator', '')}: roof from {src}\n"
                 f"peak {peak:.4g} GMAC/s, {bw:.4g} GB/s DRAM, ridge at {ridge:.3g} MACs/B", fontsize=9)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    fig.tight_layout()
    if output:
        fig.savefig(output, dpi=120)
    return fig
