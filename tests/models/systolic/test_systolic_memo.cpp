// The systolic model costs a GEMM shape once and reuses it for every later op of that shape
// (SystolicModel::cost_and_fill, sparsity off): exact only because cost_gemm and
// fill_gemm_record are pure functions of the op and the spec and copy_gemm_fill carries every
// field fill_gemm_record writes (checked directly in test_systolic_sparsity.cpp). Here through
// a replayed trace: the ops of a repeated shape equal the shape costed alone.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <array>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;

namespace {
const std::string kSrc = BPSIM_SOURCE_DIR;
/// A trace of the ops `bodies` (each an op record's fields past its id and name), each
/// reading t0 and t1 and writing t2.
std::string trace_of(const std::vector<std::string>& bodies) {
  std::string t = R"({"format": "bpsim-trace", "version": 1, "name": "memo", "dtype": "int8", "batch": 1})"
                  "\n";
  for (int i = 0; i < 3; ++i)
    t += R"({"tensor": )" + std::to_string(i) + R"(, "name": "t)" + std::to_string(i) +
         R"(", "bytes": 16384, "role": "activation"})" + "\n";
  for (size_t i = 0; i < bodies.size(); ++i)
    t += R"({"op": )" + std::to_string(i) + R"(, "name": "op)" + std::to_string(i) + R"(", )" + bodies[i] +
         R"(, "reads": [0, 1], "writes": [2]})" + "\n";
  return t;
}
nlohmann::json ops_of(const Scratch& s, const std::string& tag, const std::vector<std::string>& bodies) {
  const std::string cfg =
      s.file(tag + ".yaml", "include: [" + kSrc + "/configs/arch/systolic_32x32_int8.yaml, " + kSrc +
                                "/configs/memory/ddr4_2400.yaml, " + kSrc + "/configs/energy/45nm.yaml, " + kSrc +
                                "/configs/energy/45nm/systolic.yaml]\nrun: { seed: 1 }\n");
  const std::string trace = s.file(tag + ".jsonl", trace_of(bodies));
  CliResult r = run_bpsim("run " + cfg + " --quiet --trace " + trace + " --set run.report_ops=all --out " + (s / tag));
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / (tag + "/report.json")))["ops"];
}
/// What an op's shape alone decides: its counts and extra, less the two figures the DRAM's
/// timing sets (stall_cycles, and utilisation through the cycles). Its energy_pj holds the
/// DRAM's too (row hits differ with what ran before); the unit test above compares actions.
nlohmann::json shape_part(const nlohmann::json& op) {
  nlohmann::json j;
  for (const char* k :
       {"macs", "macs_executed", "macs_gated", "macs_skipped", "onchip_read_bytes", "onchip_write_bytes", "extra"})
    j[k] = op.at(k);
  j["extra"].erase("stall_cycles");
  j["extra"].erase("utilisation");
  return j;
}
}  // namespace

TEST_CASE("systolic memo: a repeated shape's ops equal a fresh costing of it", "[cli][systolic][memo][trace]") {
  Scratch s("systolic_memo");
  const std::string gemm = R"("phase": "forward", "kind": "gemm", "gemm": )";
  // A 3×3 conv, 4 → 8 channels on 8×8 (pad 1): its GEMM is M = 1·8·8 = 64 pixels, K = 4·3·3 =
  // 36, N = 8. Forward it reads its input through the conv view; the same dims in
  // backward_data read dY as it is (conv_input.cpp): the phase is part of the shape.
  const std::string conv = R"("kind": "conv", "gemm": {"m": 64, "n": 8, "k": 36}, "conv": {"n": 1, "c": 4, "h": 8, )"
                           R"("w": 8, "k": 8, "r": 3, "s": 3, "stride": 1, "pad": 1, "p": 8, "q": 8, "groups": 1})";
  const std::vector<std::string> shape = {gemm + R"({"m": 64, "n": 64, "k": 64})",
                                          gemm + R"({"m": 32, "n": 96, "k": 48})", R"("phase": "forward", )" + conv,
                                          R"("phase": "backward_data", )" + conv};
  // Each shape alone, costed afresh.
  std::vector<nlohmann::json> alone;
  for (size_t i = 0; i < shape.size(); ++i) {
    const nlohmann::json ops = ops_of(s, "alone" + std::to_string(i), {shape[i]});
    REQUIRE(ops.size() == 1);
    alone.push_back(shape_part(ops[0]));
  }
  // The shapes differ (the comparison below could not pass by accident): 64·64·64 = 262144
  // MACs, 32·96·48 = 147456, 64·36·8 = 18432 (both convs); only forward has a conv view.
  CHECK(alone[0]["macs"] == 262144);
  CHECK(alone[1]["macs"] == 147456);
  CHECK(alone[2]["macs"] == 18432);
  CHECK(alone[3]["macs"] == 18432);
  CHECK(alone[2]["extra"].contains("conv_input"));
  CHECK_FALSE(alone[3]["extra"].contains("conv_input"));
  for (size_t i = 0; i < alone.size(); ++i)
    for (size_t j = i + 1; j < alone.size(); ++j) CHECK(alone[i] != alone[j]);
  // Interleaved and repeated: ops 4..7 take their costs from the first four.
  const std::vector<size_t> order = {0, 1, 2, 3, 2, 0, 3, 1};
  std::vector<std::string> bodies;
  for (size_t i : order) bodies.push_back(shape[i]);
  const nlohmann::json mixed = ops_of(s, "mixed", bodies);
  REQUIRE(mixed.size() == order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    INFO("op " << i);
    CHECK(shape_part(mixed[i]) == alone[order[i]]);
  }
}
