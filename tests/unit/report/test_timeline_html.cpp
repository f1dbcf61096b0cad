// The timeline's tracks and counters on ops that overlap, and the Pareto front, on
// hand-made inputs (the CLI tests cover runs, whose ops run one at a time).
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/report/html_report.h"
#include "sim/report/timeline_trace.h"

using nlohmann::json;

namespace {

json op(const std::string& name, const std::string& phase, uint64_t start, uint64_t cycles, uint64_t dram_read = 0) {
  return {{"name", name},
          {"phase", phase},
          {"kind", "gemm"},
          {"start_cycle", start},
          {"cycles", cycles},
          {"energy_pj", 1.0},
          {"macs", 0},
          {"macs_executed", 0},
          {"macs_gated", 0},
          {"macs_skipped", 0},
          {"dram_read_bytes", dram_read},
          {"dram_write_bytes", 0},
          {"onchip_read_bytes", 0},
          {"onchip_write_bytes", 0}};
}

}  // namespace

TEST_CASE("timeline: overlapping ops of a phase get a track each, others share", "[timeline]") {
  // a [0,10) and b [5,15) overlap; c [10,20) fits after a on the first track; d is another phase.
  const json ops = {op("a", "forward", 0, 10), op("b", "forward", 5, 10), op("c", "forward", 10, 10),
                    op("d", "update", 20, 5)};
  const bpsim::OpTracks t = bpsim::op_tracks(ops);
  CHECK(t.names == std::vector<std::string>{"forward", "forward (2)", "update"});
  CHECK(t.of_op == std::vector<size_t>{0, 1, 0, 2});
}

TEST_CASE("timeline: a counter sums the ops running at once and drops to 0 between them", "[timeline]") {
  // clock 1 GHz: a reads 100 B in 10 cycles (10 ns) = 10 GB/s over [0,10); b 200 B in 10
  // cycles = 20 GB/s over [5,15). So 10 at 0, 30 at 5, 20 at 10, 0 at 15; then c 0 B.
  const json rep = {
      {"clock_ghz", 1.0},
      {"accelerator", "toy"},
      {"bpsim_version", "x"},
      {"run", {{"name", ""}}},
      {"totals", {{"cycles", 30}}},
      {"ops", {op("a", "forward", 0, 10, 100), op("b", "forward", 5, 10, 200), op("c", "forward", 20, 10)}}};
  std::ostringstream text;
  bpsim::write_timeline_trace(text, rep);
  const json trace = json::parse(text.str());
  std::vector<std::pair<double, double>> dram;  // (ts µs, read GB/s)
  for (const json& e : trace["traceEvents"])
    if (e["ph"] == "C" && e["name"] == "DRAM bandwidth (GB/s)")
      dram.emplace_back(e["ts"].get<double>(), e["args"]["read"].get<double>());
  REQUIRE(dram.size() == 6);
  const std::vector<std::pair<double, double>> want = {{0, 10},    {0.005, 30}, {0.010, 20},
                                                       {0.015, 0}, {0.020, 0},  {0.030, 0}};
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(dram[i].first == Approx(want[i].first));
    CHECK(dram[i].second == Approx(want[i].second).margin(1e-9));
  }
}

TEST_CASE("pareto front: points no other beats in both, ties kept", "[html]") {
  // (1,5) and (5,1) trade off; (3,3) too; (4,4) is beaten by (3,3); (1,5) twice: both kept.
  const std::vector<std::pair<double, double>> pts = {{1, 5}, {5, 1}, {3, 3}, {4, 4}, {1, 5}};
  CHECK(bpsim::pareto_front(pts) == std::vector<size_t>{0, 1, 2, 4});
}

namespace {

/// A run's report of `n` ops one after another, each of `cycles` cycles in its own layer
/// ("l0", "l1", …), moving `dram` bytes and executing `macs` MACs (1 GHz, 64 MACs a cycle).
json run_of(size_t n, uint64_t cycles, uint64_t dram, uint64_t macs) {
  json ops = json::array();
  for (size_t i = 0; i < n; ++i) {
    json o = op("op" + std::to_string(i), "forward", i * cycles, cycles, dram);
    o["layer"] = "l" + std::to_string(i);
    o["macs"] = o["macs_executed"] = macs;
    ops.push_back(o);
  }
  const uint64_t total = n * cycles;
  return {{"clock_ghz", 1.0},
          {"accelerator", "toy"},
          {"bpsim_version", "x"},
          {"energy_table", "t"},
          {"run", {{"name", ""}, {"seed", 1}}},
          {"totals", {{"cycles", total}, {"seconds", double(total) * 1e-9}, {"energy_pj", double(n)}}},
          {"phases", {{"forward", {{"cycles", total}}}}},
          {"memory", {{"policy", "none"}, {"peak_bytes", n}, {"saved_after_forward_bytes", 0}}},
          {"energy_breakdown_pj", json::object()},
          {"stats", json::object()},
          {"roofline", {{"peak_macs_per_cycle", 64.0}, {"peak_gmacs_per_s", 64.0}, {"peak_dram_gbps", 8.0}}},
          {"ops", ops}};
}

/// The number of (x, y) pairs of the page's memory polyline.
size_t memory_points(const std::string& html) {
  const size_t chart = html.find("aria-label=\"live memory over the step\"");
  const size_t at = html.find("<polyline fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\" points=\"", chart);
  REQUIRE(at != std::string::npos);
  const size_t from = html.find("points=\"", at) + 8, to = html.find('"', from);
  return size_t(std::count(html.begin() + long(from), html.begin() + long(to), ','));
}

size_t count_of(const std::string& html, const std::string& what) {
  size_t n = 0;
  for (size_t at = html.find(what); at != std::string::npos; at = html.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("report.html: a huge run's memory steps, layers and roofline points are merged, and it says so", "[html]") {
  // Up to 2000 ops every op is drawn: 2000 memory steps of two points each, 2000 layer rows,
  // 2000 roofline circles (each op: 64 DRAM bytes and 6400 MACs in 100 cycles: 100 MACs per
  // byte, 64 GMAC/s: the same pixel for all).
  for (const size_t n : {size_t(2000), size_t(240000)}) {
    const json rep = run_of(n, 100, 64, 6400);
    bpsim::HtmlRunExtras x;
    for (size_t i = 0; i < n; ++i) x.live.emplace_back(uint64_t(i % 7));  // a sawtooth: every step differs
    const std::string html = bpsim::run_html(rep, x);
    INFO(n << " ops, page of " << html.size() << " bytes");
    if (n == 2000) {
      CHECK(memory_points(html) == 2 * n);
      CHECK(count_of(html, "<tr><td>l") == n);
      CHECK(count_of(html, "<circle ") == n);
      CHECK(html.find("are drawn as") == std::string::npos);
      continue;
    }
    // 240000 ops over 910 pixels: each op 0.0038 px wide, so a merged step spans at most
    // half a pixel: at most 2 × 910 + 1 steps (two points each).
    CHECK(memory_points(html) <= 2 * (2 * 910 + 1));
    CHECK(memory_points(html) >= 2 * 910);
    CHECK_THAT(html, Catch::Contains("The 240,000 ops are drawn as "));
    // 1000 layers with the most cycles (all tie: the first 1000) keep a row; the other 239000
    // follow them as one merged row.
    CHECK(count_of(html, "<tr><td>l") == 1000);
    CHECK_THAT(html, Catch::Contains("<tr><td>239000 layers: l1000 … l239999</td><td>239000</td>"));
    CHECK_THAT(html, Catch::Contains("This run has 240,000 layers: the 1,000 with the most cycles have a row each"));
    // Every op on one pixel: one circle for all.
    CHECK(count_of(html, "<circle ") == 1);
    CHECK_THAT(html, Catch::Contains("240000 ops from op0: 100 MAC/B, 64 GMAC/s"));
    CHECK(html.size() < 1000000);
  }
}
