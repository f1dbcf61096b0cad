#pragma once
/// report.html: one self-contained page per run, sweep or comparison (inline CSS, SVG and a
/// little JS; nothing fetched), its numbers formatted from the same values as report.json.
/// Every number taken from the report sits in an element with `data-key` (its JSON pointer
/// in report.json, or in the point's results.jsonl row) and `data-value` (the value as the
/// JSON has it), so a test can check what is shown against the JSON (docs/report.md, "HTML
/// report").
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bpsim {

/// What a run's page shows beyond report.json.
struct HtmlRunExtras {
  std::vector<std::optional<uint64_t>> live;  ///< live bytes while each op runs (live_bytes_by_op); empty: unknown
  std::vector<std::string> layers;            ///< each op's layer from the op graph; empty: from the ops or names
  std::optional<uint64_t> budget_bytes;       ///< the memory policy's budget, when it has one
  std::string ops_note;                       ///< why the report holds no op entries, when it holds none
};

/// The page of one run: summary, phases, energy breakdown, memory over time (live bytes,
/// peak, budget, phases), roofline, per-layer table and the op timeline.
std::string run_html(const nlohmann::json& report, const HtmlRunExtras& extras = {});

/// Which two totals a points page plots (both minimised for its Pareto front), as JSON
/// pointers into a results.jsonl row ("/totals/seconds").
struct ParetoAxes {
  std::string x, y;
};

/// The page of a sweep or a comparison: one row per point of `rows` (results.jsonl's rows:
/// index, hash, status, axes, totals, memory), the axes in `axis_names` order, the points
/// plotted on `axes` with their Pareto front marked. `links`: per row, the relative path of
/// the point's own report.html ("" for none).
std::string points_html(const std::string& title, const std::vector<std::string>& axis_names,
                        const std::vector<nlohmann::json>& rows, const ParetoAxes& axes,
                        const std::vector<std::string>& links = {});

/// Writes `dest` (a sweep's or a comparison's report.html) from the rows of
/// `results_dir`/results.jsonl, each point linked to `results_dir`/points/HASH/report.html
/// (as a path relative to `dest`'s folder, taken lexically: `results_dir` must be spelled
/// from the same prefix, as that folder or one inside it).
void write_points_html(const std::string& results_dir, const std::string& dest, const std::string& title,
                       const std::vector<std::string>& axis_names, const ParetoAxes& axes);

/// Indices of `points` (x, y pairs, both minimised) on the Pareto front: no other point is
/// at most as large in both and smaller in one. Ties are all kept.
std::vector<size_t> pareto_front(const std::vector<std::pair<double, double>>& points);

}  // namespace bpsim
