#include "models/pim/rtl_column.h"

#include <systemc>

#include "Vxnor_column.h"
#include "sim/cosim/thread_clock.h"
#include "sim/cosim/waveform.h"

namespace bpsim::pim {

namespace {

using namespace sc_core;

class Column : public sc_module, public RtlColumn {
 public:
  Column(sc_module_name n, double period_ps) : sc_module(n), m_clock(period_ps) {
    m_dut.clk(m_clock.signal());
    m_dut.rst(m_rst);
    m_dut.start(m_start);
    m_dut.x(m_x);
    m_dut.w(m_w);
    m_dut.threshold(m_threshold);
    m_dut.busy(m_busy);
    m_dut.done(m_done);
    m_dut.count(m_count);
    m_dut.sign_out(m_sign);
    m_dut.readout(m_readout);
    m_dut.value(m_value);
    m_dut.add_valid(m_add_valid);
    m_dut.add_first(m_add_first);
    m_dut.a_bit(m_a_bit);
    m_dut.b_bit(m_b_bit);
    m_dut.sum_bit(m_sum_bit);
    if (waveform::requested()) waveform::add([this](VerilatedVcdC* vcd, int levels) { m_dut.trace(vcd, levels); });
  }

  RtlAccumulate accumulate(const std::vector<bool>& x, const std::vector<bool>& w, uint32_t threshold,
                           bool readout) override {
    m_clock.reset_once(m_rst);
    RtlAccumulate r;
    for (size_t base = 0; base < x.size(); base += kLanes) {
      // Rows past the end: x = 0, w = 1, whose XNOR is 0, so they add nothing.
      uint64_t xv = 0, wv = ~uint64_t(0);
      for (size_t i = 0; i < kLanes && base + i < x.size(); ++i) {
        xv |= uint64_t(x[base + i]) << i;
        if (!w[base + i]) wv &= ~(uint64_t(1) << i);
      }
      m_x = xv;
      m_w = wv;
      m_threshold = threshold;
      m_readout = readout;
      m_start = true;
      m_clock.edge();  // the start edge: the selection x/¬x is registered
      m_start = false;
      uint64_t edges = 0;
      do {
        m_clock.edge();
        ++edges;
      } while (!m_done.read() && edges < 4 * kLanes);
      r.count += m_count.read();
      r.value += m_value.read();
      r.last_sign = m_sign.read();
      r.cycles += edges;
      r.step_cycles += edges - (readout ? kCountBits : 1);
      ++r.passes;
    }
    return r;
  }

 private:
  ThreadClock m_clock;
  sc_signal<bool> m_rst{"rst"}, m_start{"start"}, m_busy{"busy"}, m_done{"done"}, m_sign{"sign_out"},
      m_readout{"readout"};
  sc_signal<bool> m_add_valid{"add_valid"}, m_add_first{"add_first"}, m_a_bit{"a_bit"}, m_b_bit{"b_bit"},
      m_sum_bit{"sum_bit"};
  sc_signal<uint64_t> m_x{"x"}, m_w{"w"};
  sc_signal<uint32_t> m_threshold{"threshold"}, m_count{"count"}, m_value{"value"};
  Vxnor_column m_dut{"dut"};
};

}  // namespace

std::unique_ptr<RtlColumn> make_rtl_column(const char* name, double period_ps) {
  return std::make_unique<Column>(name, period_ps);
}

}  // namespace bpsim::pim
