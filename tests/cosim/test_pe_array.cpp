// The Verilated weight-stationary PE array (rtl/systolic/pe_array.sv; one stage, or two
// chained stages on 4x4) in lockstep with the systolic model's fold core: seeded random int8 GEMMs are tiled into folds
// exactly as map_gemm tiles them, each fold is run on the RTL (through models/systolic/rtl_array, the same driver
// `backend: rtl` uses), and
//  - the results equal a C++ reference GEMM bit-exactly (masked output columns are 0),
//  - every fold takes, measured by the RTL's own out_valid, the cycles the model charges
//    (scalesim_fold_cycles: R preload + T + D + C - 2 + (S - 1), D the rows of the busy
//    stages, R with one stage; derivation in pe_array.sv: the last output (t = T-1,
//    c = C-1) is shown after stream edge T-1 + (D-1) + (S-1) + C-1), so the GEMM's total
//    equals time_folds(..., Timing::scalesim, S) with no difference,
//  - with two stages, folds whose K rows all lie in stage 1 run with stage 2 bypassed,
//  - the multiplier inputs of PEs in masked columns never toggle, while unmasked ones do.
#include <catch2/catch.hpp>
#include <systemc>

#include <random>
#include <vector>

#include "models/systolic/fold_core.h"
#include "models/systolic/mapper.h"
#include "models/systolic/rtl_array.h"

using namespace sc_core;
using namespace bpsim::systolic;

namespace {

struct Totals {
  int gemms = 0, folds = 0, bypass_folds = 0, value_mismatches = 0, fold_cycle_mismatches = 0,
      gemm_cycle_mismatches = 0;
  uint64_t rtl_cycles = 0, model_cycles = 0, masked_toggles = 0, unmasked_toggles = 0, masked_pe_samples = 0;
};

struct Bench : sc_module {
  unsigned R, C, S;
  std::unique_ptr<RtlArray> arr;
  Totals tot;

  SC_HAS_PROCESS(Bench);
  Bench(sc_module_name n, unsigned r, unsigned c, unsigned s)
      : sc_module(n), R(r), C(c), S(s), arr(make_rtl_array("array", r, c, s, 1000)) {
    SC_THREAD(drive);
  }

  void drive() {
    for (uint64_t seed : {1, 2, 3}) {
      std::mt19937_64 rng(seed);
      for (int g = 0; g < 4; ++g) {
        const size_t M = 1 + rng() % 12, K = 1 + rng() % (3 * R), N = 1 + rng() % (3 * C);
        MatI8 A(M, std::vector<int>(K)), W(K, std::vector<int>(N));
        for (auto& row : A)
          for (auto& x : row) x = int(rng() % 256) - 128;
        for (auto& row : W)
          for (auto& x : row) x = int(rng() % 256) - 128;
        std::vector<bool> colmask(N);
        for (size_t n = 0; n < N; ++n) colmask[n] = rng() % 3 == 0;
        // Reference GEMM; a masked output is never computed (0).
        MatI32 ref(M, std::vector<int32_t>(N, 0)), Y;
        for (size_t i = 0; i < M; ++i)
          for (size_t n = 0; n < N; ++n)
            if (!colmask[n])
              for (size_t k = 0; k < K; ++k) ref[i][n] += A[i][k] * W[k][n];
        const RtlGemmStats st = arr->gemm(A, W, colmask, Y);
        const FoldMap fm = map_gemm(M, K, N, Dataflow::ws, R, C);
        // Folds run column folds outside, row folds inside: fold i is row fold i % fr,
        // which uses R rows of K, or r_last in the last row fold.
        for (size_t i = 0; i < st.fold_cycles.size(); ++i) {
          const uint64_t k_rows = i % fm.fr + 1 < fm.fr ? R : fm.r_last;
          if (busy_stages(k_rows, R, S) < S) ++tot.bypass_folds;
          if (st.fold_cycles[i] != scalesim_fold_cycles(fm, Dataflow::ws, S, k_rows)) ++tot.fold_cycle_mismatches;
        }
        const uint64_t model = time_folds(fm, Dataflow::ws, Timing::scalesim, S).total();
        if (st.folds != fm.folds()) ++tot.fold_cycle_mismatches;
        if (st.cycles != model) ++tot.gemm_cycle_mismatches;
        if (Y != ref) ++tot.value_mismatches;
        tot.folds += int(st.folds);
        tot.rtl_cycles += st.cycles;
        tot.model_cycles += model;
        tot.masked_toggles += st.masked_toggles;
        tot.unmasked_toggles += st.unmasked_toggles;
        tot.masked_pe_samples += st.masked_pe_samples;
        ++tot.gemms;
      }
    }
  }
};

void check_array(unsigned r, unsigned c, unsigned s = 1) {
  Bench bench("bench", r, c, s);
  sc_start();
  const Totals& t = bench.tot;
  INFO("gemms " << t.gemms << " folds " << t.folds << " rtl cycles " << t.rtl_cycles << " model cycles "
                << t.model_cycles);
  CHECK(t.gemms == 12);
  CHECK(t.folds >= t.gemms);
  CHECK(t.value_mismatches == 0);
  CHECK(t.fold_cycle_mismatches == 0);
  CHECK(t.gemm_cycle_mismatches == 0);
  CHECK(t.rtl_cycles == t.model_cycles);
  // Two stages: some folds' K rows (K or r_last <= R/2) left stage 2 idle, so its bypass ran.
  if (s > 1) CHECK(t.bypass_folds > 0);
  // Operand isolation: masked PEs' multiplier inputs stay put; the counter is live (the
  // unmasked PEs' random int8 inputs toggle) and masked PEs were exercised.
  CHECK(t.masked_pe_samples > 0);
  CHECK(t.masked_toggles == 0);
  CHECK(t.unmasked_toggles > 0);
}

}  // namespace

TEST_CASE("cosim: Verilated 4x4 ws PE array matches GEMM and fold cycles, seeds 1-3", "[cosim][systolic]") {
  check_array(4, 4);
}

TEST_CASE("cosim: Verilated 8x8 ws PE array matches GEMM and fold cycles, seeds 1-3", "[cosim][systolic]") {
  check_array(8, 8);
}

TEST_CASE("cosim: Verilated 4x4 ws PE array in 2 stages matches GEMM and fold cycles, seeds 1-3",
          "[cosim][systolic][stages]") {
  check_array(4, 4, 2);
}
