// The Verilated weight-stationary PE array (rtl/systolic/pe_array.sv) in lockstep with the
// systolic model's fold core: seeded random int8 GEMMs are tiled into folds exactly as
// map_gemm tiles them, each fold is run on the RTL, and
//  - the results equal a C++ reference GEMM bit-exactly (masked output columns are 0),
//  - every fold takes, measured by the RTL's own out_valid, the cycles the model charges
//    (scalesim_fold_cycles: R preload + T + R + C - 2; derivation in pe_array.sv: the
//    last output (t = T-1, c = C-1) is registered at stream edge T-1 + R-1 + C-1), so the
//    GEMM's total equals time_folds(..., Timing::scalesim, 1) with no difference,
//  - the multiplier inputs of PEs in masked columns never toggle, while unmasked ones do.
#include <catch2/catch.hpp>
#include <systemc>

#include <random>
#include <type_traits>
#include <vector>

#include "Vpe_array_4x4.h"
#include "Vpe_array_8x8.h"
#include "models/systolic/fold_core.h"
#include "models/systolic/mapper.h"

using namespace sc_core;
using bpsim::systolic::Dataflow;

namespace {

// Verilated port types: up to 32 bits uint32_t, up to 64 uint64_t, wider sc_bv<W>.
template <int W>
using port_t = std::conditional_t<(W <= 32), uint32_t, std::conditional_t<(W <= 64), uint64_t, sc_dt::sc_bv<W>>>;

uint64_t bits(const sc_dt::sc_bv_base& v, int lo, int n) { return v.range(lo + n - 1, lo).to_uint64(); }

struct Totals {
  int gemms = 0, folds = 0, value_mismatches = 0, fold_cycle_mismatches = 0, gemm_cycle_mismatches = 0;
  uint64_t rtl_cycles = 0, model_cycles = 0, masked_toggles = 0, unmasked_toggles = 0, masked_pe_samples = 0;
};

template <class V, int R, int C>
struct Bench : sc_module {
  sc_clock clk{"clk", 1, SC_NS};
  sc_signal<bool> rst{"rst"}, w_load{"w_load"};
  sc_signal<port_t<C * 8>> w_in{"w_in"};
  sc_signal<port_t<R * 8>> a_in{"a_in"};
  sc_signal<uint32_t> a_valid{"a_valid"}, mask{"mask"}, out_valid{"out_valid"};
  sc_signal<port_t<C * 32>> out{"out"};
  sc_signal<port_t<R * C * 8>> mul_a{"mul_a"};
  V dut{"dut"};
  std::vector<uint64_t> seeds;
  Totals tot;

  SC_HAS_PROCESS(Bench);
  Bench(sc_module_name n, std::vector<uint64_t> s) : sc_module(n), seeds(std::move(s)) {
    dut.clk(clk);
    dut.rst(rst);
    dut.w_load(w_load);
    dut.w_in(w_in);
    dut.a_in(a_in);
    dut.a_valid(a_valid);
    dut.mask(mask);
    dut.out(out);
    dut.out_valid(out_valid);
    dut.mul_a(mul_a);
    SC_THREAD(drive);
  }

  // Inputs change at the falling edge and are read by the next rising edge; outputs are
  // read at the falling edge after the rising edge that registered them.
  void edge() {
    wait(clk.posedge_event());
    wait(clk.negedge_event());
  }

  // One fold: rows kr0.. of W (K side), columns nc0.. (N side), all M vectors. Returns
  // the edges from the first preload edge to the edge that registered the last output.
  uint64_t fold(const std::vector<std::vector<int>>& A, const std::vector<std::vector<int>>& W,
                const std::vector<bool>& colmask, size_t kr0, size_t nc0, std::vector<std::vector<int32_t>>& Y) {
    const size_t M = A.size(), K = W.size(), N = W[0].size();
    uint32_t m = 0;
    for (int c = 0; c < C; ++c)
      if (nc0 + c < N && colmask[nc0 + c]) m |= 1u << c;
    mask = m;
    uint64_t edges = 0;
    std::vector<uint64_t> prev(R * C);
    bool have_prev = false;
    auto sample_toggles = [&] {
      const auto v = mul_a.read();
      for (int k = 0; k < R; ++k)
        for (int c = 0; c < C; ++c) {
          const uint64_t x = bits(v, (k * C + c) * 8, 8);
          const bool masked = (m >> c) & 1;
          if (masked) ++tot.masked_pe_samples;
          if (have_prev && x != prev[k * C + c]) ++(masked ? tot.masked_toggles : tot.unmasked_toggles);
          prev[k * C + c] = x;
        }
      have_prev = true;
    };
    // Preload: the row loaded first ends in row R-1.
    for (int i = 0; i < R; ++i) {
      const size_t kr = kr0 + (R - 1 - i);
      uint64_t w = 0;
      for (int c = 0; c < C; ++c)
        if (kr < K && nc0 + c < N) w |= uint64_t(uint8_t(W[kr][nc0 + c])) << (8 * c);
      w_load = true;
      w_in = port_t<C * 8>(w);
      edge();
      ++edges;
      sample_toggles();
    }
    w_load = false;
    std::vector<size_t> got(C, 0);
    size_t done_cols = 0;
    for (size_t s = 0; done_cols < size_t(C) && s < M + 4 * (R + C); ++s) {
      uint64_t a = 0;
      uint32_t v = 0;
      for (int k = 0; k < R; ++k) {
        const long t = long(s) - k;
        if (t >= 0 && size_t(t) < M) {
          v |= 1u << k;
          if (kr0 + k < K) a |= uint64_t(uint8_t(A[t][kr0 + k])) << (8 * k);
        }
      }
      a_in = port_t<R * 8>(a);
      a_valid = v;
      edge();
      ++edges;
      sample_toggles();
      const uint32_t ov = out_valid.read();
      const auto o = out.read();
      for (int c = 0; c < C; ++c) {
        if (!((ov >> c) & 1)) continue;
        const size_t t = got[c]++;
        if (t < M && nc0 + c < N) Y[t][nc0 + c] += int32_t(uint32_t(bits(o, 32 * c, 32)));
        if (got[c] == M) ++done_cols;
      }
    }
    a_in = port_t<R * 8>(0);
    a_valid = 0;
    return edges;
  }

  void drive() {
    rst = true;
    edge();
    edge();
    rst = false;
    for (uint64_t seed : seeds) {
      std::mt19937_64 rng(seed);
      for (int g = 0; g < 4; ++g) {
        const size_t M = 1 + rng() % 12, K = 1 + rng() % (3 * R), N = 1 + rng() % (3 * C);
        std::vector<std::vector<int>> A(M, std::vector<int>(K)), W(K, std::vector<int>(N));
        for (auto& row : A)
          for (auto& x : row) x = int(rng() % 256) - 128;
        for (auto& row : W)
          for (auto& x : row) x = int(rng() % 256) - 128;
        std::vector<bool> colmask(N);
        for (size_t n = 0; n < N; ++n) colmask[n] = rng() % 3 == 0;
        // Reference GEMM; a masked output is never computed (0).
        std::vector<std::vector<int32_t>> ref(M, std::vector<int32_t>(N, 0)), Y = ref;
        for (size_t i = 0; i < M; ++i)
          for (size_t n = 0; n < N; ++n)
            if (!colmask[n])
              for (size_t k = 0; k < K; ++k) ref[i][n] += A[i][k] * W[k][n];
        const auto fm = bpsim::systolic::map_gemm(M, K, N, Dataflow::ws, R, C);
        const uint64_t per_fold = bpsim::systolic::scalesim_fold_cycles(fm, Dataflow::ws, 1);
        uint64_t rtl = 0;
        // map_gemm's loop order: column folds outside, row folds inside; the partial sums
        // of row folds are accumulated outside the array (as SCALE-Sim does).
        for (size_t fc = 0; fc < fm.fc; ++fc)
          for (size_t fr = 0; fr < fm.fr; ++fr) {
            const uint64_t e = fold(A, W, colmask, fr * R, fc * C, Y);
            ++tot.folds;
            if (e != per_fold) ++tot.fold_cycle_mismatches;
            rtl += e;
          }
        const uint64_t model =
            bpsim::systolic::time_folds(fm, Dataflow::ws, bpsim::systolic::Timing::scalesim, 1).total();
        if (rtl != model) ++tot.gemm_cycle_mismatches;
        if (Y != ref) ++tot.value_mismatches;
        tot.rtl_cycles += rtl;
        tot.model_cycles += model;
        ++tot.gemms;
      }
    }
    sc_stop();
  }
};

template <class V, int R, int C>
void check_array() {
  Bench<V, R, C> bench("bench", {1, 2, 3});
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
  // Operand isolation: masked PEs' multiplier inputs stay put; the counter is live (the
  // unmasked PEs' random int8 inputs toggle) and masked PEs were exercised.
  CHECK(t.masked_pe_samples > 0);
  CHECK(t.masked_toggles == 0);
  CHECK(t.unmasked_toggles > 0);
}

}  // namespace

TEST_CASE("cosim: Verilated 4x4 ws PE array matches GEMM and fold cycles, seeds 1-3", "[cosim][systolic]") {
  check_array<Vpe_array_4x4, 4, 4>();
}

TEST_CASE("cosim: Verilated 8x8 ws PE array matches GEMM and fold cycles, seeds 1-3", "[cosim][systolic]") {
  check_array<Vpe_array_8x8, 8, 8>();
}
