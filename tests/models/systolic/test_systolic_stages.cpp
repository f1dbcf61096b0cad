// Chained stages of the systolic array (docs/systolic.md, "Stages"): one small GEMM with an
// output mask on 1, 2 and 4 stages, every cycle and energy-relevant count derived by hand,
// through the fold core and through `bpsim run`; and the stage configurations refused.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <nlohmann/json.hpp>

#include "models/systolic/fold_core.h"
#include "models/systolic/mapper.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim;
using namespace bpsim::systolic;

// The hand case: M = 10, K = 12, N = 4 on an 8-row × 4-column ws array.
//   Sr = K = 12, Sc = N = 4, T = M = 10; row folds ⌈12/8⌉ = 2 (the first uses all 8 rows of
//   K, the last r_last = 12 − 8 = 4), one column fold: 2 folds.
//   Stages of P = 8/S rows: S = 1 (P 8), S = 2 (P 4), S = 4 (P 2). The full fold keeps every
//   stage busy; the last fold's 4 rows of K fill ⌈4/P⌉ stages: 1 of 1, 1 of 2, 2 of 4.
//   Rows in the partial-sum path D: S = 1 always 8 (SCALE-Sim); S = 2: 8, then 1·4 = 4;
//   S = 4: 8, then 2·2 = 4.
//   SCALE-Sim fold = preload 8 + T 10 + D + C 4 − 2 + (S − 1):
//     S = 1: 8+10+8+2 = 28 twice                           = 56
//     S = 2: 8+10+8+2+1 = 29, then 8+10+4+2+1 = 25         = 54
//     S = 4: 8+10+8+2+3 = 31, then 8+10+4+2+3 = 27         = 58
//   Idle stages (last fold only): S = 2: 1 stage of 4 rows × 4 cols = 16 PEs for its 25
//   cycles = 400 PE-cycles; S = 4: 2 stages of 2 rows × 4 cols = 16 PEs × 27 = 432.
//   Stage registers: each fold's T = 10 partial sums of each of the 4 columns cross S − 1
//   boundaries: (S − 1)·4·10·2 folds = 80·(S − 1): 0, 80, 240 (bypassed stages' too).
//   With the mask on, the same number of mask bits is latched beside them.
TEST_CASE("systolic stages: hand case through the fold core", "[systolic][stages]") {
  const FoldMap f = map_gemm(10, 12, 4, Dataflow::ws, 8, 4);
  REQUIRE(f.fr == 2);
  REQUIRE(f.fc == 1);
  REQUIRE(f.r_last == 4);
  CHECK(busy_stages(8, 8, 2) == 2);
  CHECK(busy_stages(4, 8, 1) == 1);
  CHECK(busy_stages(4, 8, 2) == 1);
  CHECK(busy_stages(4, 8, 4) == 2);
  CHECK(busy_stages(3, 8, 4) == 2);  // 3 rows of P = 2: a stage and a half, both busy
  struct Case {
    unsigned s;
    uint64_t full, last, total, idle, stage_regs;
  } cases[] = {{1, 28, 28, 56, 0, 0}, {2, 29, 25, 54, 400, 80}, {4, 31, 27, 58, 432, 240}};
  for (const Case& c : cases) {
    INFO("stages " << c.s);
    CHECK(scalesim_fold_cycles(f, Dataflow::ws, c.s, 8) == c.full);
    CHECK(scalesim_fold_cycles(f, Dataflow::ws, c.s, 4) == c.last);
    const FoldTiming t = time_folds(f, Dataflow::ws, Timing::scalesim, c.s);
    CHECK(t.total() == c.total);
    CHECK(t.idle_stage_pe_cycles == c.idle);
    const ArrayCounts on = count_array(f, c.s, true), off = count_array(f, c.s, false);
    CHECK(on.macs == 480);  // 10·12·4, whatever the stages
    CHECK(on.reg_writes == 960);
    CHECK(on.stage_reg_writes == c.stage_regs);
    CHECK(on.meta_reg_writes == c.stage_regs);
    CHECK(off.meta_reg_writes == 0);  // no mask: no bits travel
  }
  // Overlapped timing: folds take max(T 10, rows swapped 8 or 4) = 10 each → 20; once per op
  // the first preload 8 + skew 8 + 4 − 2 = 18, + (S − 1): 38, 39, 41. Idle stages over the
  // last fold's 10 cycles: 16 PEs × 10 = 160 for S = 2 and S = 4.
  CHECK(time_folds(f, Dataflow::ws, Timing::overlapped, 1).total() == 38);
  CHECK(time_folds(f, Dataflow::ws, Timing::overlapped, 2).total() == 39);
  CHECK(time_folds(f, Dataflow::ws, Timing::overlapped, 4).total() == 41);
  CHECK(time_folds(f, Dataflow::ws, Timing::overlapped, 4).idle_stage_pe_cycles == 160);
  // One stage stays SCALE-Sim's formula for any K: a short last fold still crosses all R.
  CHECK(scalesim_fold_cycles(f, Dataflow::ws, 1, 1) == 28);
}

namespace {
const std::string kSrc = BPSIM_SOURCE_DIR;

std::string hand_config(test::Scratch& s) {
  // SCALE-Sim topology form: Layer, M, N, K. Half the output columns masked, gated.
  s.file("t.csv", "Layer, M, N, K,\ng1, 10, 4, 12,\n");
  return s.file("c.yaml", "include: [" + kSrc + "/configs/arch/systolic_32x32_int8.yaml, " + kSrc +
                              "/configs/memory/ddr4_2400.yaml, " + kSrc +
                              "/configs/energy/45nm.yaml]\n"
                              "accelerator: {rows: 8, cols: 4, timing: scalesim, dtype: int8,\n"
                              "  output_sparsity: {mode: gate, granularity: col, pattern: density, density: 0.5}}\n"
                              "workload: {scalesim: t.csv}\n");
}

nlohmann::json run_stages(test::Scratch& s, const std::string& cfg, unsigned stages) {
  const std::string out = s / ("s" + std::to_string(stages));
  const test::CliResult r =
      test::run_bpsim("run " + cfg + " --quiet --set accelerator.stages=" + std::to_string(stages) + " --out " + out);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(test::slurp(out + "/report.json"));
}

double energy_of(const nlohmann::json& rep, const std::string& action) {
  const auto& e = rep["energy_breakdown_pj"];
  return e.contains(action) ? e[action].get<double>() : 0.0;
}
}  // namespace

TEST_CASE("systolic stages: hand case through bpsim run on 1, 2 and 4 stages", "[systolic][stages][cli]") {
  test::Scratch s("stages_hand");
  const std::string cfg = hand_config(s);
  // Derivation above (fold core hand case). Mask: density 0.5 of N = 4 columns → 2 masked
  // columns × M 10 = 20 masked outputs, × K 12 = 240 MACs gated, 240 computed; the mask is
  // 4 bits = 1 byte of metadata read once.
  struct Case {
    unsigned s;
    uint64_t cycles, stage_regs, idle;
  } cases[] = {{1, 56, 0, 0}, {2, 54, 80, 400}, {4, 58, 240, 432}};
  for (const Case& c : cases) {
    INFO("stages " << c.s);
    const nlohmann::json rep = run_stages(s, cfg, c.s);
    const nlohmann::json& op = rep["ops"][0];
    CHECK(op["extra"]["array_cycles"] == c.cycles);
    CHECK(op["macs"] == 480);
    CHECK(op["macs_gated"] == 240);
    CHECK(op["extra"]["metadata_bytes"] == 1);
    // Energy by action (configs/energy/45nm/systolic.yaml): MACs 240 × 0.3 pJ, gated
    // 240 × 0.03, PE registers 960 × 0.1, the same for every stage count; stage registers
    // (S − 1)·80 × 0.1 pJ, mask bits beside them × 0.0031 pJ.
    CHECK(energy_of(rep, "systolic.mac_int8") == Approx(240 * 0.3));
    CHECK(energy_of(rep, "systolic.mac_gated") == Approx(240 * 0.03));
    CHECK(energy_of(rep, "systolic.reg_write") == Approx(960 * 0.1));
    CHECK(energy_of(rep, "systolic.stage_reg_write") == Approx(double(c.stage_regs) * 0.1));
    CHECK(energy_of(rep, "systolic.stage_meta_write") == Approx(double(c.stage_regs) * 0.0031));
    if (c.s == 1) {
      // One stage: nothing stage-specific in the report (SCALE-Sim's array).
      CHECK_FALSE(op["extra"].contains("idle_stage_pe_cycles"));
      CHECK_FALSE(rep["stats"]["systolic"].contains("idle_stage_pe_cycles"));
    } else {
      CHECK(op["extra"]["idle_stage_pe_cycles"] == c.idle);
      CHECK(rep["stats"]["systolic"]["idle_stage_pe_cycles"] == c.idle);
    }
  }
  // Without a mask no metadata travels: stage registers only.
  const test::CliResult r = test::run_bpsim("run " + cfg + " --quiet --set accelerator.stages=4 " +
                                            "--set accelerator.output_sparsity.mode=off --out " + (s / "off"));
  REQUIRE(r.code == 0);
  const nlohmann::json off = nlohmann::json::parse(test::slurp(s / "off/report.json"));
  CHECK(energy_of(off, "systolic.stage_reg_write") == Approx(240 * 0.1));
  CHECK_FALSE(off["energy_breakdown_pj"].contains("systolic.stage_meta_write"));
}

TEST_CASE("systolic stages: configurations the model cannot represent exit 2", "[systolic][stages][cli]") {
  test::Scratch s("stages_bad");
  const std::string cfg = hand_config(s);
  // Each error names the key and where its value came from (here the command line).
  const std::pair<std::string, std::string> cases[] = {
      // os keeps the reduction in time inside each PE: no stages along it.
      {"--set accelerator.stages=2 --set accelerator.dataflow=os", "accelerator.stages: stages > 1 needs dataflow ws"},
      {"--set accelerator.stages=3", "accelerator.stages: stages must divide rows"},
      {"--set accelerator.stages=16", "accelerator.stages: stages must divide rows"},
  };
  for (const auto& [set, msg] : cases) {
    const test::CliResult r = test::run_bpsim("run " + cfg + " " + set + " --out " + (s / "o"));
    INFO(set << " -> " << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(msg) && Catch::Contains("--set accelerator.stages="));  // where it came from
  }
  // is, whose rows also hold K, takes stages.
  CHECK(test::run_bpsim("validate " + cfg + " --set accelerator.stages=2 --set accelerator.dataflow=is").code == 0);
}
