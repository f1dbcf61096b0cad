// The timeline's tracks and counters on ops that overlap, and the Pareto front, on
// hand-made inputs (the CLI tests cover runs, whose ops run one at a time).
#include <catch2/catch.hpp>

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
  const json trace = bpsim::timeline_trace(rep);
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
