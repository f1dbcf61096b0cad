#include "models/systolic/rtl_array.h"

#include <algorithm>
#include <systemc>
#include <type_traits>

#include "Vpe_array_4x4.h"
#include "Vpe_array_4x4s2.h"
#include "Vpe_array_8x8.h"
#include "models/systolic/fold_core.h"
#include "models/systolic/mapper.h"
#include "sim/cosim/thread_clock.h"
#include "sim/cosim/waveform.h"

namespace bpsim::systolic {

namespace {

using namespace sc_core;

// Verilated port types: one bit bool, up to 32 bits uint32_t, up to 64 uint64_t, wider sc_bv<W>.
template <int W>
using port_t = std::conditional_t<
    W == 1, bool, std::conditional_t<(W <= 32), uint32_t, std::conditional_t<(W <= 64), uint64_t, sc_dt::sc_bv<W>>>>;

uint64_t bits(const sc_dt::sc_bv_base& v, int lo, int n) { return v.range(lo + n - 1, lo).to_uint64(); }

template <class V, int R, int C, int S>
class Array : public sc_module, public RtlArray {
 public:
  Array(sc_module_name n, double period_ps) : sc_module(n), m_clock(period_ps) {
    m_dut.clk(m_clock.signal());
    m_dut.rst(m_rst);
    m_dut.w_load(m_w_load);
    m_dut.w_in(m_w_in);
    m_dut.a_in(m_a_in);
    m_dut.a_valid(m_a_valid);
    m_dut.mask(m_mask);
    m_dut.stage_on(m_stage_on);
    m_dut.out(m_out);
    m_dut.out_valid(m_out_valid);
    m_dut.mul_a(m_mul_a);
    if (waveform::requested()) waveform::add([this](VerilatedVcdC* vcd, int levels) { m_dut.trace(vcd, levels); });
  }

  RtlGemmStats gemm(const MatI8& a, const MatI8& w, const std::vector<bool>& colmask, MatI32& y) override {
    RtlGemmStats st;
    m_clock.reset_once(m_rst);
    const size_t m = a.size(), k = w.size(), n = k ? w[0].size() : 0;
    y.assign(m, std::vector<int32_t>(n, 0));
    const FoldMap fm = map_gemm(m, k, n, Dataflow::ws, R, C);
    // map_gemm's loop order: column folds outside, row folds inside; row folds' partial
    // sums are accumulated outside the array (as SCALE-Sim does).
    for (size_t fc = 0; fc < fm.fc; ++fc)
      for (size_t fr = 0; fr < fm.fr; ++fr) {
        const uint64_t e = fold(a, w, colmask, fr * R, fc * C, y, st);
        st.fold_cycles.push_back(e);
        st.cycles += e;
        ++st.folds;
      }
    return st;
  }

 private:
  static constexpr int P = R / S;  ///< rows per stage
  void edge() { m_clock.edge(); }

  uint64_t fold(const MatI8& A, const MatI8& W, const std::vector<bool>& colmask, size_t kr0, size_t nc0, MatI32& Y,
                RtlGemmStats& st) {
    const size_t M = A.size(), K = W.size(), N = W[0].size();
    uint32_t msk = 0;
    for (int c = 0; c < C; ++c)
      if (nc0 + c < N && colmask[nc0 + c]) msk |= 1u << c;
    m_mask = msk;
    // The fold's K rows fill the stages from the first; the rest are switched off (bypassed).
    const uint64_t busy = busy_stages(std::min<uint64_t>(R, K - kr0), R, S);
    const uint32_t on = (1u << busy) - 1;
    m_stage_on = port_t<S>(on);
    uint64_t edges = 0;
    std::vector<uint64_t> prev(R * C);
    bool have_prev = false;
    auto sample_toggles = [&] {
      const auto v = m_mul_a.read();
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) {
          const uint64_t x = bits(v, (r * C + c) * 8, 8);
          const bool masked = ((msk >> c) & 1) || !((on >> (r / P)) & 1);
          if (masked) ++st.masked_pe_samples;
          if (have_prev && x != prev[r * C + c]) ++(masked ? st.masked_toggles : st.unmasked_toggles);
          prev[r * C + c] = x;
        }
      have_prev = true;
    };
    // Preload: the row loaded first ends in row R-1.
    for (int i = 0; i < R; ++i) {
      const size_t kr = kr0 + (R - 1 - i);
      uint64_t wv = 0;
      for (int c = 0; c < C; ++c)
        if (kr < K && nc0 + c < N) wv |= uint64_t(uint8_t(W[kr][nc0 + c])) << (8 * c);
      m_w_load = true;
      m_w_in = port_t<C * 8>(wv);
      edge();
      ++edges;
      sample_toggles();
    }
    m_w_load = false;
    std::vector<size_t> got(C, 0);
    size_t done_cols = 0;
    // Skewed stream: element r of vector t before stream edge t + r + r/P (one edge per
    // stage boundary above row r); outputs are taken by out_valid, so the edge count is
    // the RTL's own latency.
    for (size_t s = 0; done_cols < size_t(C) && s < M + 4 * (R + C); ++s) {
      uint64_t av = 0;
      uint32_t v = 0;
      for (int r = 0; r < R; ++r) {
        const long t = long(s) - r - r / P;
        if (t >= 0 && size_t(t) < M) {
          v |= 1u << r;
          if (kr0 + r < K) av |= uint64_t(uint8_t(A[size_t(t)][kr0 + r])) << (8 * r);
        }
      }
      m_a_in = port_t<R * 8>(av);
      m_a_valid = v;
      edge();
      ++edges;
      sample_toggles();
      const uint32_t ov = m_out_valid.read();
      const auto o = m_out.read();
      for (int c = 0; c < C; ++c) {
        if (!((ov >> c) & 1)) continue;
        const size_t t = got[c]++;
        if (t < M && nc0 + c < N) Y[t][nc0 + c] += int32_t(uint32_t(bits(o, 32 * c, 32)));
        if (got[c] == M) ++done_cols;
      }
    }
    m_a_in = port_t<R * 8>(0);
    m_a_valid = 0;
    return edges;
  }

  ThreadClock m_clock;
  sc_signal<bool> m_rst{"rst"}, m_w_load{"w_load"};
  sc_signal<port_t<C * 8>> m_w_in{"w_in"};
  sc_signal<port_t<R * 8>> m_a_in{"a_in"};
  sc_signal<uint32_t> m_a_valid{"a_valid"}, m_mask{"mask"}, m_out_valid{"out_valid"};
  sc_signal<port_t<S>> m_stage_on{"stage_on"};
  sc_signal<port_t<C * 32>> m_out{"out"};
  sc_signal<port_t<R * C * 8>> m_mul_a{"mul_a"};
  V m_dut{"dut"};
};

}  // namespace

bool rtl_array_supported(unsigned rows, unsigned cols, unsigned stages) {
  if (rows != cols) return false;
  return (stages == 1 && (rows == 4 || rows == 8)) || (stages == 2 && rows == 4);
}

std::unique_ptr<RtlArray> make_rtl_array(const char* name, unsigned rows, unsigned cols, unsigned stages,
                                         double period_ps) {
  if (!rtl_array_supported(rows, cols, stages)) return nullptr;
  if (stages == 2) return std::make_unique<Array<Vpe_array_4x4s2, 4, 4, 2>>(name, period_ps);
  if (rows == 4) return std::make_unique<Array<Vpe_array_4x4, 4, 4, 1>>(name, period_ps);
  return std::make_unique<Array<Vpe_array_8x8, 8, 8, 1>>(name, period_ps);
}

}  // namespace bpsim::systolic
