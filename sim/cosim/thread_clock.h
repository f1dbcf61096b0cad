#pragma once
/// The clock of a Verilated block driven from the calling SC_THREAD (no free-running
/// sc_clock, so a simulation still ends when its threads do): inputs change while the
/// clock is low; outputs are read half a period after the rising edge that registered them.
#include <systemc>

namespace bpsim {

class ThreadClock {
 public:
  explicit ThreadClock(double period_ps) : m_half(period_ps / 2, sc_core::SC_PS) {}
  sc_core::sc_signal<bool>& signal() { return m_clk; }
  /// One period: rising edge, half a period, falling edge, half a period.
  void edge() {
    m_clk = true;
    sc_core::wait(m_half);
    m_clk = false;
    sc_core::wait(m_half);
    ++m_edges;
  }
  /// Rising edges so far, reset edges included.
  uint64_t edges() const { return m_edges; }
  /// Two edges with `rst` high, the first time only (not counted as work).
  void reset_once(sc_core::sc_signal<bool>& rst) {
    if (m_reset_done) return;
    rst = true;
    edge();
    edge();
    rst = false;
    m_reset_done = true;
  }

 private:
  sc_core::sc_time m_half;
  sc_core::sc_signal<bool> m_clk{"clk"};
  bool m_reset_done = false;
  uint64_t m_edges = 0;
};

}  // namespace bpsim
