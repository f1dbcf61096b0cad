// bpsim run --timeline (Chrome trace-event JSON) and report.html, through the CLI: the
// timeline's structure against report.json, and every number the page tags against the
// JSON it names. The page's rendering is checked in a browser by tests/browser/.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kExamples = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/";

/// Checks `trace` (a --timeline file) against the report of the same run: the fields every
/// event of its kind needs, one track per phase holding that phase's ops without overlap,
/// durations that convert back to the ops' cycles, and the op names in run order.
void check_timeline(const json& trace, const json& rep) {
  REQUIRE(trace.contains("traceEvents"));
  const double ghz = rep["clock_ghz"].get<double>();
  std::map<int, std::string> thread_names;
  std::map<int, std::vector<json>> by_tid;
  std::vector<std::string> names;
  std::set<std::string> counters;
  bool process_named = false;
  for (const json& e : trace["traceEvents"]) {
    INFO(e.dump());
    REQUIRE(e.contains("ph"));
    REQUIRE(e.contains("name"));
    REQUIRE(e["pid"] == 1);
    const std::string ph = e["ph"].get<std::string>();
    if (ph == "M") {
      REQUIRE(e["args"].is_object());
      if (e["name"] == "process_name") process_named = true;
      if (e["name"] == "thread_name") thread_names[e["tid"].get<int>()] = e["args"]["name"].get<std::string>();
    } else if (ph == "X") {
      for (const char* k : {"tid", "ts", "dur", "args", "cat"}) REQUIRE(e.contains(k));
      REQUIRE(e["ts"].get<double>() >= 0);
      REQUIRE(e["dur"].get<double>() >= 0);
      by_tid[e["tid"].get<int>()].push_back(e);
      names.push_back(e["name"].get<std::string>());
    } else if (ph == "C") {
      REQUIRE(e.contains("ts"));
      REQUIRE(e["args"].is_object());
      for (const auto& [k, v] : e["args"].items()) REQUIRE(v.is_number());
      counters.insert(e["name"].get<std::string>());
    } else {
      FAIL("unexpected event type " << ph);
    }
  }
  CHECK(process_named);
  // The op names, in the order the ops ran.
  std::vector<std::string> want;
  for (const json& o : rep["ops"]) want.push_back(o["name"].get<std::string>());
  CHECK(names == want);
  // Each track is named and belongs to one phase; its events do not overlap; the cycles of
  // a phase's tracks add up to the phase's cycles in report.json, and their durations (µs)
  // convert back to them: dur = cycles / clock_ghz / 1000.
  std::map<std::string, uint64_t> phase_cycles;
  std::map<std::string, double> phase_us;
  for (const auto& [tid, events] : by_tid) {
    REQUIRE(thread_names.count(tid));
    const std::string phase = events.front()["cat"].get<std::string>();
    CHECK_THAT(thread_names[tid], Catch::StartsWith(phase));
    double end = 0;
    for (const json& e : events) {
      CHECK(e["cat"] == phase);
      CHECK(e["ts"].get<double>() >= end - 1e-9 * end);
      end = e["ts"].get<double>() + e["dur"].get<double>();
      phase_cycles[phase] += e["args"]["cycles"].get<uint64_t>();
      phase_us[phase] += e["dur"].get<double>();
    }
  }
  REQUIRE(phase_cycles.size() == rep["phases"].size());
  uint64_t all = 0;
  for (const auto& [phase, cycles] : phase_cycles) {
    INFO(phase);
    CHECK(cycles == rep["phases"][phase]["cycles"].get<uint64_t>());
    CHECK(phase_us[phase] * 1e3 * ghz == Approx(double(cycles)).epsilon(1e-9));
    all += cycles;
  }
  // These examples run one op at a time: the ops fill the step exactly.
  CHECK(all == rep["totals"]["cycles"].get<uint64_t>());
  CHECK(counters.count("DRAM bandwidth (GB/s)"));
  CHECK(counters.count("MACs per cycle"));
  CHECK(counters.count("live memory (bytes)"));
}

/// Every element of `html` with data-key: its pointer resolves in `doc` and data-value is
/// the value there, as the JSON writes it. Returns how many it checked.
size_t check_tagged(const std::string& html, const json& doc) {
  static const std::regex tag(R"re(data-key="([^"]*)" data-value="([^"]*)")re");
  size_t n = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it, ++n) {
    std::string value = (*it)[2].str();
    for (auto [from, to] : {std::pair<std::string, std::string>{"&quot;", "\""},
                            {"&lt;", "<"},
                            {"&gt;", ">"},
                            {"&#39;", "'"},
                            {"&amp;", "&"}})
      for (size_t p; (p = value.find(from)) != std::string::npos;) value.replace(p, from.size(), to);
    const json::json_pointer ptr((*it)[1].str());
    INFO((*it)[1].str());
    REQUIRE(doc.contains(ptr));
    CHECK(json::parse(value) == doc[ptr]);
  }
  return n;
}

void check_self_contained(const std::string& html) {
  CHECK_THAT(html, Catch::StartsWith("<!DOCTYPE html>"));
  // Nothing fetched: no source, stylesheet or script from anywhere.
  CHECK_THAT(html, !Catch::Contains("src=") && !Catch::Contains("http://") && !Catch::Contains("https://") &&
                       !Catch::Contains("@import"));
  for (const char* section :
       {"id=\"summary\"", "id=\"energy\"", "id=\"memory\"", "id=\"roofline\"", "id=\"layers\"", "id=\"timeline\""})
    CHECK_THAT(html, Catch::Contains(section));
}

}  // namespace

TEST_CASE("cli run --timeline: trace events match the report (systolic, mesh)", "[cli][timeline]") {
  Scratch s("timeline");
  for (const char* example : {"mlp_train_systolic", "mlp_train_mesh"}) {
    INFO(example);
    const CliResult r = run_bpsim("run " + kExamples + example + ".yaml --quiet --out " + (s / example) +
                                  " --timeline " + (s / (std::string(example) + ".json")));
    INFO(r.err);
    REQUIRE(r.code == 0);
    const json rep = json::parse(slurp(s / example + "/report.json"));
    const json trace = json::parse(slurp(s / (std::string(example) + ".json")));
    check_timeline(trace, rep);
    CHECK(trace["otherData"]["cycles"] == rep["totals"]["cycles"]);
  }
  // The mesh's NoC activity as a counter (its ops' flit hops per cycle).
  const json mesh = json::parse(slurp(s / "mlp_train_mesh.json"));
  bool noc = false;
  for (const json& e : mesh["traceEvents"]) noc |= e["name"] == "NoC flit hops per cycle";
  CHECK(noc);
}

TEST_CASE("cli run --timeline -: the timeline alone on stdout", "[cli][timeline]") {
  Scratch s("timeline_stdout");
  const CliResult r = run_bpsim("run " + kExamples + "pim_mlp_host.yaml --out " + (s / "o") + " --timeline -");
  INFO(r.err);
  REQUIRE(r.code == 0);
  check_timeline(json::parse(r.out), json::parse(slurp(s / "o/report.json")));
}

TEST_CASE("cli run --timeline: refused before the run when it cannot be made", "[cli][timeline]") {
  Scratch s("timeline_bad");
  // The op entries left out of report.json: exit 2 naming the key, the folder untouched.
  CliResult r = run_bpsim("run " + kExamples + "mlp_train_systolic.yaml --set run.report_ops=none --out " + (s / "o") +
                          " --timeline " + (s / "t.json"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--timeline") && Catch::Contains("run.report_ops"));
  CHECK_FALSE(fs::exists(s.path / "o"));
  // A destination in a missing folder: exit 2 with the path, no report written.
  r = run_bpsim("run " + kExamples + "mlp_train_systolic.yaml --out " + (s / "o2") + " --timeline " +
                (s / "missing/t.json"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains(s / "missing"));
  CHECK_FALSE(fs::exists(s.path / "o2/report.json"));
}

TEST_CASE("cli run: report.html is self-contained and its numbers are report.json's", "[cli][html]") {
  Scratch s("html_run");
  for (const char* example : {"mlp_train_systolic", "mlp_train_mesh", "pim_mlp_host", "ddr4_stream"}) {
    INFO(example);
    const CliResult r = run_bpsim("run " + kExamples + example + ".yaml --quiet --out " + (s / example));
    INFO(r.err);
    REQUIRE(r.code == 0);
    const std::string html = slurp(s / example + "/report.html");
    check_self_contained(html);
    const json rep = json::parse(slurp(s / example + "/report.json"));
    // Summary (13 cards at least), phases (6 per row), every energy component.
    CHECK(check_tagged(html, rep) >= 11 + 6 * (rep["phases"].size() + 1) + rep["energy_breakdown_pj"].size());
    CHECK_THAT(html, Catch::Contains("data-key=\"/totals/cycles\" data-value=\"" + rep["totals"]["cycles"].dump()));
  }
  // A spec's run has an op graph: the memory chart and the per-layer table are drawn.
  const std::string html = slurp(s / "mlp_train_systolic/report.html");
  CHECK_THAT(html, Catch::Contains("aria-label=\"live memory over the step\""));
  CHECK_THAT(html, Catch::Contains("id=\"layer-table\""));
  // The traffic generator has none: the page says so instead of drawing an empty chart.
  CHECK_THAT(slurp(s / "ddr4_stream/report.html"), Catch::Contains("No memory series"));
}

TEST_CASE("cli run: report.html of a step past 2000 ops merges its memory steps and says so", "[cli][html]") {
  // 600 linear layers (8 → 8): fwd, dx, dw, db, weight and bias updates each, 6 × 600 = 3600
  // ops, past the 2000 the page draws one by one (docs/report.md, report.html): the memory
  // series is merged to at most two steps per pixel and the page states both counts.
  Scratch s("html_merge");
  const std::string cfg =
      s.file("big.yaml", preset_includes("systolic_32x32_int8.yaml") +
                             "accelerator: {dtype: workload}\nworkload:\n  input: {shape: [8]}\n"
                             "  layers:\n    - {repeat: 600, layers: [{kind: linear, out_features: 8}]}\n");
  const CliResult r = run_bpsim("run " + cfg + " --quiet --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  const json rep = json::parse(slurp(s / "o/report.json"));
  REQUIRE(rep["ops"].size() == 3600);
  const std::string html = slurp(s / "o/report.html");
  check_self_contained(html);
  std::smatch m;
  REQUIRE(std::regex_search(html, m, std::regex("The 3,600 ops are drawn as ([0-9,]+) steps")));
  std::string steps = m[1];
  steps.erase(std::remove(steps.begin(), steps.end(), ','), steps.end());
  CHECK(std::stoul(steps) < 3600);
}

TEST_CASE("cli compare: report.html lists every policy and marks the Pareto front", "[cli][html]") {
  Scratch s("html_compare");
  const CliResult r = run_bpsim("compare " + kExamples + "mlp_compare_policies.yaml --no-plot --out " + (s / "c") +
                                " --policies none,checkpoint,checkpoint_sequential,full_recompute");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const std::string html = slurp(s / "c/report.html");
  std::vector<json> rows;
  {
    std::ifstream in(s / "c/runs/results.jsonl");
    for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
  }
  REQUIRE(rows.size() == 4);
  CHECK(check_tagged(html, json(rows)) == 4 * 6);
  // Peak memory and time (both lower is better), from compare's own table: checkpoint
  // (26.49 MB, 18.17 ms) is beaten by none (19.97 MB, 13.36 ms) in both, and so is
  // full_recompute (same peak as none, slower); none and checkpoint_sequential (less
  // memory, slower) are the front.
  size_t front = 0;
  for (size_t p = html.find("<tr class=\"pareto\">"); p != std::string::npos;
       p = html.find("<tr class=\"pareto\">", p + 1))
    ++front;
  CHECK(front == 2);
  CHECK(fs::exists(s.path / "c/runs/points" / rows[0]["hash"].get<std::string>() / "report.html"));
  CHECK_THAT(html, Catch::Contains("href=\"runs/points/" + rows[0]["hash"].get<std::string>() + "/report.html\""));
}

TEST_CASE("cli sweep: report.html tabulates the points and marks their Pareto front", "[cli][html]") {
  Scratch s("html_sweep");
  const std::string sweep =
      s.file("s.yaml", "base: " + kExamples + "mlp_train_systolic.yaml\naxes:\n  accelerator.rows: [8, 16, 32]\n");
  const CliResult r = run_bpsim("sweep " + sweep + " --out " + (s / "o"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::vector<json> rows;
  {
    std::ifstream in(s / "o/results.jsonl");
    for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
  }
  REQUIRE(rows.size() == 3);
  const std::string html = slurp(s / "o/report.html");
  CHECK(check_tagged(html, json(rows)) == 3 * 6);
  CHECK_THAT(html, Catch::Contains("<th>accelerator.rows</th>"));
  // The front in (seconds, energy), decided here from the rows: a point is on it unless
  // another is no worse in both and better in one.
  size_t want = 0;
  for (const json& a : rows) {
    bool beaten = false;
    for (const json& b : rows) {
      const double as = a["totals"]["seconds"], ae = a["totals"]["energy_pj"];
      const double bs = b["totals"]["seconds"], be = b["totals"]["energy_pj"];
      beaten |= bs <= as && be <= ae && (bs < as || be < ae);
    }
    want += !beaten;
  }
  size_t front = 0;
  for (size_t p = html.find("<tr class=\"pareto\">"); p != std::string::npos;
       p = html.find("<tr class=\"pareto\">", p + 1))
    ++front;
  CHECK(front == want);
  CHECK(want >= 1);
}
