// The PIM model's XNOR-accumulate against the Verilated column (rtl/pim/xnor_column.sv):
// a lockstep harness feeding both the same seeded operands, then `backend: rtl` on the
// pim accelerator.
#include <catch2/catch.hpp>
#include <systemc>
#include "sim/core/build_info.h"

#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "models/pim/primitives.h"
#include "models/pim/rtl_column.h"
#include "tests/cosim/cosim_harness.h"
#include "tests/models/pim/pim_cli_util.h"

using namespace bpsim;
using namespace bpsim::pim;
using namespace bpsim::test;

namespace {

struct Lockstep : sc_core::sc_module {
  std::unique_ptr<RtlColumn> col = make_rtl_column("col", 1000.0);
  PimSpec spec;  // max_rows_per_step 16, as verilated
  int trials = 0, count_errors = 0, sign_errors = 0, step_errors = 0, equal_steps = 0, multiples = 0;
  int readout_errors = 0, readout_cycle_errors = 0;
  SC_HAS_PROCESS(Lockstep);
  explicit Lockstep(sc_core::sc_module_name n) : sc_core::sc_module(n) { SC_THREAD(run); }
  void run() {
    const Primitives prim(spec);
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      std::mt19937_64 rng(seed);
      for (int t = 0; t < 40; ++t) {
        // Row counts 1..300, every fifth a multiple of 64.
        const uint64_t rows = t % 5 == 0 ? 64 * (1 + rng() % 4) : 1 + rng() % 300;
        std::vector<bool> x(rows), w(rows);
        uint64_t expect = 0;
        for (uint64_t i = 0; i < rows; ++i) {
          x[i] = rng() & 1;
          w[i] = rng() & 1;
          expect += x[i] == w[i];
        }
        const uint32_t th = static_cast<uint32_t>(rng() % 65);
        const RtlAccumulate r = col->accumulate(x, w, th, false);
        ++trials;
        // The same operands read out: the successive-approximation value of every pass sums
        // to the popcount, and each pass takes 4 steps and kCountBits = ⌈log2 65⌉ = 7
        // comparisons (one sense per bit of a 0..64 count) instead of 1.
        const RtlAccumulate v = col->accumulate(x, w, th, true);
        const uint64_t n_passes = (rows + 63) / 64;
        if (v.value != expect || v.count != expect) ++readout_errors;
        if (v.passes != n_passes || v.cycles != n_passes * (4 + 7) || v.step_cycles != 4 * n_passes)
          ++readout_cycle_errors;
        if (r.count != expect) ++count_errors;
        // One pass (≤ 64 rows): its comparison is the column's sign.
        if (rows <= 64 && r.last_sign != (expect >= th)) ++sign_errors;
        // The model connects ⌈rows/16⌉ step groups; the RTL runs ⌈rows/64⌉ passes of 4
        // steps each (its 64 rows are fixed; padding rows count 0): the RTL takes
        // 4·⌈rows/64⌉ − ⌈rows/16⌉ ∈ [0, 3] more steps, none when 64 divides rows. Each pass
        // also spends one compare cycle, the model's one sense.
        const uint64_t model = prim.xnor_accumulate(rows).shares;
        const uint64_t passes = (rows + 63) / 64;
        if (r.passes != passes || r.cycles != r.step_cycles + passes || r.step_cycles != 4 * passes ||
            r.step_cycles - model != 4 * passes - (rows + 15) / 16 || r.step_cycles - model > 3)
          ++step_errors;
        if (rows % 64 == 0) {
          ++multiples;
          equal_steps += r.step_cycles == model;
        }
      }
    }
    sc_core::sc_stop();
  }
};

std::string pim_config(Scratch& s, unsigned inputs) {
  return s.file("c.yaml", pim_includes() + "workload:\n  name: tiny\n  batch: 8\n  input: {shape: [" +
                              std::to_string(inputs) +
                              "]}\n  optimizer: sgd\n  layers:\n"
                              "    - {kind: binary_linear, name: fc1, out_features: 64}\n"
                              "    - {kind: binary_linear, name: fc2, out_features: 10}\n");
}

}  // namespace

TEST_CASE("cosim: Verilated PIM column and the model's accumulate in lockstep", "[cosim][pim]") {
  Lockstep ls("ls");
  sc_core::sc_start();
  CHECK(ls.trials == 120);
  CHECK(ls.count_errors == 0);
  CHECK(ls.sign_errors == 0);
  CHECK(ls.step_errors == 0);
  CHECK(ls.readout_errors == 0);
  CHECK(ls.readout_cycle_errors == 0);
  CHECK(ls.multiples >= 24);              // every fifth trial, and random ones that happen to be
  CHECK(ls.equal_steps == ls.multiples);  // every multiple of 64 times alike
}

TEST_CASE("cosim: pim backend rtl times accumulates on the column", "[cosim][pim][cli]") {
  // Ambit-XNOR mapping, charge-domain readout, σ = 1 mV (122 reliable cells). The ops write
  // fp32 outputs: each forward reads its integer count by successive approximation, kc
  // operands and 2^b − 1 reference cells per sense within rows_per_sense:
  //  64: kc = 31, b = 5, 62 cells; 100: kc = 37, b = 6, 100 cells.
  // Every sense is one accumulate on the column: fc1 (K = 128) has ⌈128/kc⌉ slices, fc2
  // (K = 64) ⌈64/kc⌉, each b senses: 64 → (5 + 3)·5 = 40; 100 → (4 + 2)·6 = 36.
  struct Case {
    unsigned rps, cells, kc, b;
  };
  for (const Case& k : {Case{64, 62, 31, 5}, Case{100, 100, 37, 6}}) {
    const unsigned rps = k.rps, cells = k.cells;
    Scratch s("pim_rtl_" + std::to_string(rps));
    const std::string cfg = pim_config(s, 128);
    const std::string sets =
        " --set accelerator.forward_mapping=ambit_xnor --set accelerator.readout=charge "
        "--set accelerator.sense_offset_mv=1 --set accelerator.rows_per_sense=" +
        std::to_string(rps);
    const auto [jm, jr] = run_model_and_rtl(s, cfg, sets);
    const auto& st = jr["stats"]["pim"];
    INFO(st.dump());
    CHECK(st["rtl_count_mismatches"] == 0);
    const uint64_t acc = ((128 + k.kc - 1) / k.kc + (64 + k.kc - 1) / k.kc) * k.b;
    CHECK(st["rtl_accumulates"] == acc);
    CHECK(st["rtl_accumulates"] == jm["stats"]["pim"]["commands"]["senses"]);
    const uint64_t k_model = (cells + 15) / 16, k_rtl = 4 * ((cells + 63) / 64);
    CHECK(st["rtl_passes"] == acc * ((cells + 63) / 64));
    CHECK(st["model_step_cycles"] == acc * k_model);
    CHECK(st["rtl_step_cycles"] == acc * k_rtl);
    CHECK(jm.dump().find("rtl_accumulates") == std::string::npos);
    if (rps == 64) {
      // 62 cells: 4 steps on both: the RTL's steps are the model's, so is every figure.
      CHECK(jr["totals"] == jm["totals"]);
      CHECK(jr["ops"] == jm["ops"]);
    } else {
      // 100 cells: 7 model steps, 8 on the column (2 passes of 4). With tFAW counting every
      // raised wordline the accumulate is bound by its 100 selected + offset + output rows
      // (102 wordlines: ⌈102/4⌉·26 = 676 cycles > 8·16 + 60 = 188), which the step count
      // does not change: the cycles agree (the energy does not: the column's extra step is
      // one more ACT). Without tFAW, one more tRCD per accumulate makes fc1's forward op
      // longer and nothing else changes.
      CHECK(jr["totals"]["cycles"] == jm["totals"]["cycles"]);
      CHECK(jr["totals"]["energy_pj"].get<double>() > jm["totals"]["energy_pj"].get<double>());
      Scratch f("pim_rtl_nofaw");
      const auto [fm, fr] = run_model_and_rtl(f, cfg, sets + " --set accelerator.obey_tfaw=false");
      CHECK(fr["totals"]["cycles"].get<uint64_t>() > fm["totals"]["cycles"].get<uint64_t>());
      CHECK(fr["totals"]["macs"] == fm["totals"]["macs"]);
    }
  }
  // The column's 16 rows per step are fixed.
  Scratch s("pim_rtl_bad");
  CliResult b = run_bpsim("run " + pim_config(s, 64) +
                          " --quiet --set accelerator.backend=rtl "
                          "--set accelerator.max_rows_per_step=8 --out " +
                          (s / "b"));
  CHECK(b.code == 2);
  CHECK_THAT(b.err, Catch::Contains("accelerator.backend: rtl needs max_rows_per_step 16"));
}

TEST_CASE("cosim: pim backend rtl runs every accumulate of a step, and refuses a step too large", "[cosim][pim][cli]") {
  const std::string example = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/binary_mlp_pim.yaml";
  Scratch s("pim_rtl_every");
  // The Ambit-XNOR mapping with the charge-domain (successive-approximation) readout: the
  // bit-serial readout, the default's choice here, has no accumulate to run.
  const std::string sets = " --set accelerator.forward_mapping=ambit_xnor --set accelerator.readout=charge";
  const auto [jm, jr] = run_model_and_rtl(s, example, " --set workload.batch=2" + sets);
  const auto& st = jr["stats"]["pim"];
  INFO(st.dump());
  // 784-4096-4096-10 at batch 2. At the preset's physics a sense resolves 8 cells
  // (test_pim_charge.cpp): kc = 3 operands + 2^2 − 1 = 3 reference cells, b = 2 senses per
  // slice, each one accumulate:
  //   fc1.fwd: K = 784 → ⌈784/3⌉ = 262 slices · 2 = 524; fc2.fwd, fc3.fwd: K = 4096 → 1366 · 2 = 2732.
  // 524 + 2732 + 2732 = 5988 accumulates, one per sense of the model's run.
  CHECK(st["rtl_accumulates"] == 5988);
  CHECK(st["rtl_accumulates"] == jm["stats"]["pim"]["commands"]["senses"]);
  CHECK(st["rtl_count_mismatches"] == 0);
  // 6 cells: one 64-row pass of 4 steps on the column, ⌈6/16⌉ = 1 step in the model.
  CHECK(st["rtl_passes"] == 5988);
  CHECK(st["rtl_step_cycles"] == 4 * 5988);
  CHECK(st["model_step_cycles"] == 5988);
  // A step needing more than 4,000,000 column passes in one op is refused before it runs.
  const CliResult big =
      run_bpsim("run " + example + sets + " --quiet --set workload.batch=1048576 --set accelerator.backend=rtl --out " +
                (s / "big"));
  CHECK(big.code == 2);
  CHECK_THAT(big.err,
             Catch::Contains("accelerator.backend: rtl runs every XNOR-accumulate") && Catch::Contains("fc2.fwd"));
  // The example's own readout (auto: bit-serial, the faster here) leaves no accumulate for the
  // column: refused rather than reporting the model's figures as checked on the RTL.
  const CliResult none = run_bpsim(
      "run " + example + " --quiet --set workload.batch=2 --set accelerator.backend=rtl --out " + (s / "none"));
  CHECK(none.code == 2);
  CHECK_THAT(none.err, Catch::Contains("accelerator.backend: rtl") && Catch::Contains("this step has none") &&
                           Catch::Contains("readout: charge"));
  CHECK_FALSE(std::filesystem::exists(s.path / "none/report.json"));
}
