// Hidden helper ([.] — never run by ctest) used by scripts/bench_systolic.sh and
// scripts/compare_scalesim.sh: converts a SCALE-Sim topology CSV into a bpsim trace (the
// importer's options, sim/trace/scalesim_csv.h). Environment: BPSIM_CSV (input),
// BPSIM_TRACE (output), BPSIM_BATCH (M × batch), BPSIM_TRAIN=1 (add the backward GEMMs).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "sim/trace/scalesim_csv.h"
#include "sim/trace/trace_io.h"

using namespace bpsim;

TEST_CASE("systolic tool: SCALE-Sim CSV to trace", "[.][systolic_tool]") {
  const char* csv = std::getenv("BPSIM_CSV");
  const char* out = std::getenv("BPSIM_TRACE");
  REQUIRE(csv);
  REQUIRE(out);
  const uint64_t batch = std::getenv("BPSIM_BATCH") ? std::stoull(std::getenv("BPSIM_BATCH")) : 1;
  const bool train = std::getenv("BPSIM_TRAIN") && std::string(std::getenv("BPSIM_TRAIN")) == "1";
  trace::ScalesimOptions opt;
  opt.batch = batch;
  opt.backward = train;
  auto g = trace::read_scalesim_csv_file(csv, opt);
  std::ofstream os(out);
  trace::write_trace(*g, os);
}
