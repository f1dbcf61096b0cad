#include "models/mesh/rtl_router.h"

#include <stdexcept>
#include <systemc>

#include "Vrouter.h"
#include "sim/cosim/thread_clock.h"
#include "sim/cosim/waveform.h"

namespace bpsim::mesh {

namespace {

using namespace sc_core;

int32_t sext16(uint32_t v) { return int32_t(int16_t(uint16_t(v))); }

class Router : public sc_module, public RtlRouter {
 public:
  Router(sc_module_name n, double period_ps) : sc_module(n), m_clock(period_ps) {
    m_dut.clk(m_clock.signal());
    m_dut.rst(m_rst);
    m_dut.cfg_we(m_cfg_we);
    m_dut.cfg_idx(m_cfg_idx);
    m_dut.cfg_dest(m_cfg_dest);
    m_dut.cfg_conv(m_cfg_conv);
    m_dut.cfg_stride(m_cfg[0]);
    m_dut.cfg_kw(m_cfg[1]);
    m_dut.cfg_kh(m_cfg[2]);
    m_dut.cfg_pad(m_cfg[3]);
    m_dut.cfg_in_w(m_cfg[4]);
    m_dut.cfg_in_h(m_cfg[5]);
    m_dut.cfg_in_c(m_cfg[6]);
    m_dut.cfg_out_w(m_cfg[7]);
    m_dut.cfg_out_h(m_cfg[8]);
    m_dut.cfg_out_c(m_cfg[9]);
    m_dut.cfg_lo_x(m_cfg[10]);
    m_dut.cfg_lo_y(m_cfg[11]);
    m_dut.cfg_lo_c(m_cfg[12]);
    m_dut.cfg_hi_x(m_cfg[13]);
    m_dut.cfg_hi_y(m_cfg[14]);
    m_dut.cfg_hi_c(m_cfg[15]);
    m_dut.n_entries(m_n_entries);
    m_dut.mesh_cols(m_mesh_cols);
    m_dut.pos_x(m_pos_x);
    m_dut.pos_y(m_pos_y);
    m_dut.fire_valid(m_fire_valid);
    m_dut.fire_bwd(m_fire_bwd);
    m_dut.fire_x(m_fire_x);
    m_dut.fire_y(m_fire_y);
    m_dut.fire_c(m_fire_c);
    m_dut.fire_ready(m_fire_ready);
    m_dut.res_valid(m_res_valid);
    m_dut.res_last(m_res_last);
    m_dut.res_idx(m_res_idx);
    m_dut.res_lo_x(m_res[0]);
    m_dut.res_lo_y(m_res[1]);
    m_dut.res_lo_c(m_res[2]);
    m_dut.res_hi_x(m_res[3]);
    m_dut.res_hi_y(m_res[4]);
    m_dut.res_hi_c(m_res[5]);
    m_dut.ovl_lo_x(m_res[6]);
    m_dut.ovl_lo_y(m_res[7]);
    m_dut.ovl_lo_c(m_res[8]);
    m_dut.ovl_hi_x(m_res[9]);
    m_dut.ovl_hi_y(m_res[10]);
    m_dut.ovl_hi_c(m_res[11]);
    m_dut.res_hit(m_res_hit);
    m_dut.res_port(m_res_port);
    m_dut.res_mask(m_res_mask);
    if (waveform::requested()) waveform::add([this](VerilatedVcdC* vcd, int levels) { m_dut.trace(vcd, levels); });
  }

  uint64_t load(const std::vector<ControlEntry>& store, unsigned cols) override {
    if (store.empty() || store.size() > kRtlRouterEntries || cols == 0 || cols > 256)
      throw std::logic_error("RtlRouter::load: entries or cols out of the RTL's range (checked by the parser)");
    const uint64_t before = m_clock.edges();
    reset_once();
    for (size_t i = 0; i < store.size(); ++i) {
      const ControlEntry& e = store[i];
      const Connection& c = e.conn;
      m_cfg_we = true;
      m_cfg_idx = uint32_t(i);
      m_cfg_dest = e.dest_cluster;
      m_cfg_conv = c.kind == Connection::Kind::conv;
      const int32_t v[16] = {c.stride,         c.kernel_w,       c.kernel_h,       c.pad,
                             c.in_w,           c.in_h,           c.in_c,           c.out_w,
                             c.out_h,          c.out_c,          e.dest_box.lo[0], e.dest_box.lo[1],
                             e.dest_box.lo[2], e.dest_box.hi[0], e.dest_box.hi[1], e.dest_box.hi[2]};
      for (int k = 0; k < 16; ++k) m_cfg[k] = uint32_t(v[k]) & (k < 4 ? 0xffu : 0xffffu);
      edge();
    }
    m_cfg_we = false;
    m_entries = unsigned(store.size());
    m_n_entries = m_entries;
    m_mesh_cols = cols;
    m_cols = cols;
    return m_clock.edges() - before;
  }

  RtlRouterRun run(const std::vector<RouterFiring>& firings, const std::vector<uint64_t>& gaps) override {
    if (!m_entries) throw std::logic_error("RtlRouter::run before load");
    RtlRouterRun out;
    out.results.resize(firings.size());
    for (RouterResult& r : out.results) r.entries.resize(m_entries);
    size_t next = 0, done = 0;
    uint64_t wait_left = firings.empty() ? 0 : gaps[0], e = 0;
    while (done < firings.size()) {
      const bool present = next < firings.size() && wait_left == 0;
      if (present) {
        const RouterFiring& f = firings[next];
        m_fire_bwd = f.backward;
        m_fire_x = uint32_t(f.x) & 0xffffu;
        m_fire_y = uint32_t(f.y) & 0xffffu;
        m_fire_c = uint32_t(f.c) & 0xffffu;
        m_pos_x = f.router % m_cols;
        m_pos_y = f.router / m_cols;
      }
      m_fire_valid = present;
      edge_inputs_settled();
      const bool accepted = present && m_fire_ready.read();
      edge();
      if (accepted) {
        out.timing.accept.push_back(e);
        ++next;
        wait_left = next < firings.size() ? gaps[next] : 0;
      } else if (!present && wait_left > 0) {
        --wait_left;
      }
      if (m_res_valid.read()) {
        if (done >= next) throw std::logic_error("RtlRouter: a result without a firing");
        RouterResult& r = out.results[done];
        RouterEntryResult& x = r.entries.at(m_res_idx.read());
        for (int d = 0; d < 3; ++d) {
          x.range.lo[d] = sext16(m_res[d].read());
          x.range.hi[d] = sext16(m_res[3 + d].read());
          x.overlap.lo[d] = sext16(m_res[6 + d].read());
          x.overlap.hi[d] = sext16(m_res[9 + d].read());
        }
        x.hit = m_res_hit.read();
        x.port = uint8_t(m_res_port.read());
        if (m_res_last.read()) {
          r.port_mask = uint8_t(m_res_mask.read());
          out.timing.last.push_back(e);
          ++done;
        }
      }
      ++e;
    }
    m_fire_valid = false;
    out.timing.edges = e;
    return out;
  }

  uint64_t edges() const override { return m_clock.edges(); }

 private:
  void reset_once() { m_clock.reset_once(m_rst); }
  // Inputs change while the clock is low; fire_ready (combinational) is read after they
  // settled, outputs half a period after the rising edge that registered them.
  void edge_inputs_settled() {
    wait(SC_ZERO_TIME);
    wait(SC_ZERO_TIME);
  }
  void edge() { m_clock.edge(); }

  ThreadClock m_clock;
  unsigned m_entries = 0, m_cols = 1;
  sc_signal<bool> m_rst{"rst"}, m_cfg_we{"cfg_we"}, m_cfg_conv{"cfg_conv"}, m_fire_valid{"fire_valid"},
      m_fire_bwd{"fire_bwd"}, m_fire_ready{"fire_ready"}, m_res_valid{"res_valid"}, m_res_last{"res_last"},
      m_res_hit{"res_hit"};
  sc_signal<uint32_t> m_cfg_idx{"cfg_idx"}, m_cfg_dest{"cfg_dest"}, m_n_entries{"n_entries"}, m_mesh_cols{"mesh_cols"},
      m_pos_x{"pos_x"}, m_pos_y{"pos_y"}, m_fire_x{"fire_x"}, m_fire_y{"fire_y"}, m_fire_c{"fire_c"},
      m_res_idx{"res_idx"}, m_res_port{"res_port"}, m_res_mask{"res_mask"};
  sc_signal<uint32_t> m_cfg[16], m_res[12];
  Vrouter m_dut{"dut"};
};

}  // namespace

std::unique_ptr<RtlRouter> make_rtl_router(const char* name, double period_ps) {
  return std::make_unique<Router>(name, period_ps);
}

}  // namespace bpsim::mesh
