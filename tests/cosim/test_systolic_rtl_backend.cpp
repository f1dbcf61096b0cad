// `backend: rtl` on the systolic accelerator: the same workload runs with every fold on the
// Verilated PE array, and unsupported combinations are refused with exit code 2.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <nlohmann/json.hpp>

#include "tests/cosim/cosim_harness.h"

using namespace bpsim::test;

namespace {
std::string config(Scratch& s) {
  // Two GEMMs (SCALE-Sim topology form: M, N, K). On 8×8, ws: g1 K = 10, N = 12 → 2·2 = 4
  // folds; g2 K = 24, N = 16 → 3·2 = 6 folds.
  s.file("t.csv", "Layer, M, N, K,\ng1, 20, 12, 10,\ng2, 7, 16, 24,\n");
  const std::string src = BPSIM_SOURCE_DIR;
  return s.file("c.yaml", "include: [" + src + "/configs/arch/systolic_32x32_int8.yaml, " + src +
                              "/configs/memory/ddr4_2400.yaml, " + src +
                              "/configs/energy/45nm.yaml]\n"
                              "accelerator: {rows: 8, cols: 8, timing: scalesim}\nworkload: {scalesim: t.csv}\n");
}
}  // namespace

TEST_CASE("cosim: systolic backend rtl runs the workload with the model's cycles", "[cosim][systolic][cli]") {
  Scratch s("rtl_backend");
  const std::string cfg = config(s);
  const auto [jm, jr] = run_model_and_rtl(s, cfg);
  // The lockstep test shows the RTL's fold cycles equal the core's (scalesim timing), so
  // the whole report's cycles agree; what differs is that the RTL ran 4 + 6 folds.
  CHECK(jr["totals"]["cycles"] == jm["totals"]["cycles"]);
  CHECK(jr["totals"]["macs"] == 20 * 12 * 10 + 7 * 16 * 24);
  CHECK(jr.dump().find("\"rtl_folds\":10") != std::string::npos);
  CHECK(jm.dump().find("rtl_folds") == std::string::npos);
}

TEST_CASE("cosim: systolic backend rtl refuses unsupported configurations with exit 2", "[cosim][systolic][cli]") {
  Scratch s("rtl_backend_bad");
  const std::string cfg = config(s);
  const std::string rtl = " --set accelerator.backend=rtl --out " + (s / "o");
  const std::pair<std::string, std::string> cases[] = {
      {" --set accelerator.rows=16", "rows x cols 4x4 or 8x8"},
      {" --set accelerator.dataflow=os", "dataflow: ws"},
      {" --set accelerator.timing=overlapped", "timing: scalesim"},
      {" --set accelerator.stages=2", "stages: 1"},
      {" --set accelerator.dtype=bf16", "dtype: int8"},
      {" --set accelerator.output_sparsity.mode=gate", "output_sparsity.mode: off"},
  };
  for (const auto& [set, msg] : cases) {
    CliResult x = run_bpsim("run " + cfg + set + rtl);
    INFO(set << " -> " << x.err);
    CHECK(x.code == 2);
    CHECK_THAT(x.err, Catch::Contains("accelerator.backend") && Catch::Contains("rtl needs " + msg));
  }
  check_backend_typo(s, cfg);
}

TEST_CASE("cosim: --trace-vcd writes the RTL array's waveform", "[cosim][systolic][cli][vcd]") {
  Scratch s("rtl_vcd");
  const std::string cfg = config(s);
  const std::string vcd = s / "w.vcd";
  const auto [text, rep] = run_rtl_with_vcd(s, cfg, "accel.rtl_array.dut");
  CHECK_THAT(text, Catch::Contains("mul_a"));
  // The clock's identifier, then its rising edges: two reset edges (rtl_array.cpp) plus
  // every cycle the array ran, which the report gives per op as array_cycles.
  const uint64_t edges = vcd_rising_edges(text, " clk $end");
  uint64_t array_cycles = 0;
  for (const auto& op : rep["ops"]) array_cycles += op["extra"]["array_cycles"].get<uint64_t>();
  CHECK(array_cycles > 0);
  CHECK(edges == array_cycles + 2);
  // The model's op sequence is in the same file (rtl/engine/op_probe.sv).
  CHECK_THAT(text, Catch::Contains("$scope module model.dut $end") && Catch::Contains(" op_index [31:0] $end"));
  // An existing file is not replaced without --force.
  CliResult again =
      run_bpsim("run " + cfg + " --quiet --set accelerator.backend=rtl --out " + (s / "r2") + " --trace-vcd " + vcd);
  CHECK(again.code == 2);
  CHECK_THAT(again.err, Catch::Contains("exists"));
}

TEST_CASE("cosim: --trace-vcd of a model-only run shows its ops as they start", "[cosim][systolic][cli][vcd]") {
  Scratch s("model_vcd");
  const std::string cfg = config(s);
  CliResult m = run_bpsim("run " + cfg + " --quiet --out " + (s / "m") + " --trace-vcd " + (s / "m.vcd"));
  INFO(m.err);
  REQUIRE(m.code == 0);
  const std::string text = slurp(s / "m.vcd");
  const auto rep = nlohmann::json::parse(slurp(s / "m/report.json"));
  // Every value op_index takes, with its time: op k at its start, start_cycle × 1000 ps at
  // the 1 GHz clock.
  const auto changes = vcd_values(text, " op_index [31:0] $end");
  REQUIRE(changes.size() == rep["ops"].size());  // 2 GEMMs
  for (size_t k = 0; k < changes.size(); ++k) {
    CHECK(changes[k].second == k);
    CHECK(changes[k].first == rep["ops"][k]["start_cycle"].get<uint64_t>() * 1000);
  }
}

TEST_CASE("cosim: backend rtl gates masked output columns without toggling them", "[cosim][systolic][cli]") {
  Scratch s("rtl_gate");
  const std::string cfg = config(s);
  // Half the output columns of each GEMM masked (g1: 6 of N = 12, g2: 8 of 16), gated.
  const std::string gate =
      " --set accelerator.output_sparsity.mode=gate --set accelerator.output_sparsity.granularity=col"
      " --set accelerator.output_sparsity.pattern=density --set accelerator.output_sparsity.density=0.5";
  const auto [mr, rr] = run_model_and_rtl(s, cfg, gate);
  // Gating saves energy, never cycles: the RTL takes the model's cycles with the mask on.
  CHECK(rr["totals"]["cycles"] == mr["totals"]["cycles"]);
  // Gated MACs: (6·20·10) + (8·7·24) = 1200 + 1344 = 2544 (masked columns × M × K).
  CHECK(mr["totals"]["macs_gated"] == 2544);
  CHECK(rr["totals"]["macs_gated"] == 2544);
  // The masked PEs were exercised and their multiplier inputs never changed.
  CHECK(rr["stats"]["systolic"]["rtl_masked_pe_cycles"].get<uint64_t>() > 0);
  CHECK(rr["stats"]["systolic"]["rtl_masked_pe_toggles"] == 0);
}

TEST_CASE("cosim: backend rtl runs 2 chained stages in lockstep with the model", "[cosim][systolic][cli][stages]") {
  Scratch s("rtl_stages");
  const std::string cfg = config(s);
  // 4x4 in 2 stages of P = 2 rows, half the output columns masked and gated (the mask bits
  // enter stage 1 and cross the stage register with the partial sums).
  const std::string two =
      " --set accelerator.rows=4 --set accelerator.cols=4 --set accelerator.stages=2"
      " --set accelerator.output_sparsity.mode=gate --set accelerator.output_sparsity.granularity=col"
      " --set accelerator.output_sparsity.pattern=density --set accelerator.output_sparsity.density=0.5";
  const auto [mr, rr] = run_model_and_rtl(s, cfg, two);
  // SCALE-Sim fold with stages (fold_core.h): 4 preload + T + D + 4 − 2 + 1, D the busy
  // stages' rows. g1 (M 20, N 12, K 10): 3 row folds × 3 column folds; the last row fold has
  // K rows 10 − 8 = 2, all in stage 1, so stage 2 is bypassed (D = 2):
  //   3 × (2 × (4+20+4+2+1 = 31) + (4+20+2+2+1 = 29)) = 3 × 91 = 273.
  // g2 (M 7, N 16, K 24): 6 × 4 folds, every one with 4 rows of K (D = 4):
  //   24 × (4+7+4+2+1 = 18) = 432. Together 705 (one stage: 9·30 + 24·17 = 678).
  uint64_t model = 0, rtl = 0;
  for (const auto& op : mr["ops"]) model += op["extra"]["array_cycles"].get<uint64_t>();
  for (const auto& op : rr["ops"]) rtl += op["extra"]["array_cycles"].get<uint64_t>();
  CHECK(model == 705);
  CHECK(rtl == 705);
  CHECK(rr["totals"]["cycles"] == mr["totals"]["cycles"]);
  CHECK(rr.dump().find("\"rtl_folds\":33") != std::string::npos);
  // Gated MACs (6·20·10 + 8·7·24 = 2544) as on one stage; masked PEs, in both stages and in
  // the bypassed stage, never toggled.
  CHECK(rr["totals"]["macs_gated"] == 2544);
  CHECK(rr["stats"]["systolic"]["rtl_masked_pe_cycles"].get<uint64_t>() > 0);
  CHECK(rr["stats"]["systolic"]["rtl_masked_pe_toggles"] == 0);
}
