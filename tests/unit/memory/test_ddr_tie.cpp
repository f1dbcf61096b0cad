// The DRAM scheduler's tie rule through the TLM socket: a request that arrives at the same
// instant as the scheduler's own wake-up is seen by the decision made at that instant, in
// whichever order the SystemC kernel runs the two processes. Derived by hand from the
// DDR4-2400 preset (tRCD = CL = 16, tBL 4, tRAS 39, tRP 16, tRC 55, tCCD_L 6, tRTP 9).
#include <catch2/catch.hpp>

#include <tlm_utils/simple_initiator_socket.h>

#include <map>
#include <vector>

#include "sim/memory/dram_system.h"
#include "tests/unit/memory/ddr_test_util.h"

using namespace bpsim;
using namespace bpsim::memory;
using namespace bpsim::memory::testing;
using namespace sc_core;

namespace {

/// Sends reads at given cycles; `late` delta cycles after its wake-up, so that it runs
/// after every process the kernel released at that instant (the scheduler included).
class Initiator : public sc_module {
 public:
  struct Send {
    uint64_t cycle, addr;
    unsigned late;
  };
  SC_HAS_PROCESS(Initiator);
  Initiator(sc_module_name name, DramSystem& dram, std::vector<Send> sends)
      : sc_module(name),
        socket("socket"),
        m_tck(dram.spec().tck_ns, SC_NS),
        m_sends(std::move(sends)),
        m_pool(m_sends.size()) {
    socket.register_nb_transport_bw(this, &Initiator::nb_transport_bw);
    socket.bind(dram.socket);
    SC_THREAD(run);
  }
  tlm_utils::simple_initiator_socket<Initiator> socket;
  std::map<size_t, uint64_t> done;  ///< send index → cycle of its response
  bool all_accepted = true;

 private:
  void run() {
    static unsigned char data[64];
    for (size_t i = 0; i < m_sends.size(); ++i) {
      const sc_time due = m_tck * double(m_sends[i].cycle);
      if (due > sc_time_stamp()) wait(due - sc_time_stamp());
      for (unsigned k = 0; k < m_sends[i].late; ++k) wait(SC_ZERO_TIME);
      tlm::tlm_generic_payload& p = m_pool[i];
      p.set_command(tlm::TLM_READ_COMMAND);
      p.set_address(m_sends[i].addr);
      p.set_data_ptr(data);
      p.set_data_length(64);
      p.set_streaming_width(64);
      tlm::tlm_phase ph = tlm::BEGIN_REQ;
      sc_time delay = SC_ZERO_TIME;
      all_accepted = all_accepted && socket->nb_transport_fw(p, ph, delay) == tlm::TLM_UPDATED;
    }
  }
  tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& p, tlm::tlm_phase& ph, sc_time&) {
    if (ph == tlm::BEGIN_RESP) done[size_t(&p - m_pool.data())] = uint64_t(sc_time_stamp() / m_tck + 0.5);
    return tlm::TLM_COMPLETED;
  }

  sc_time m_tck;
  std::vector<Send> m_sends;
  std::vector<tlm::tlm_generic_payload> m_pool;
};

/// (cycle, kind) of each command the DRAM issued for three reads: A (row 5) and C (row 9 of
/// the same bank) at cycle 0, B (row 5 again) at cycle 39, `late` deltas after its wake-up.
std::vector<std::pair<uint64_t, char>> three_reads(unsigned late, std::map<size_t, uint64_t>& done) {
  DramSystem dram("dram", preset());
  std::vector<DdrCommand> log;
  dram.record_commands(&log);
  Initiator init("init", dram,
                 {{0, addr(0, 0, 0, 5, 0), 0}, {0, addr(0, 0, 0, 9, 0), 0}, {39, addr(0, 0, 0, 5, 1), late}});
  sc_start();
  CHECK(init.all_accepted);
  done = init.done;
  std::vector<std::pair<uint64_t, char>> v;
  for (const DdrCommand& c : log) v.emplace_back(c.cycle, c.kind);
  return v;
}

// ACT row 5 at 0 and RD A at tRCD 16 (data ends 16 + 16 + 4 = 36). C conflicts on the open
// row: the scheduler sleeps until its PRE may issue, at max(tRAS 39, RD + tRTP 25) = 39.
// B arrives at exactly that instant and hits row 5: seen by the decision at 39, FR-FCFS
// serves the hit first, RD B at 39 (tCCD_L allows 22; data ends 39 + 20 = 59). Then PRE at
// RD B + tRTP = 48, ACT row 9 at 48 + tRP = 64 (tRC: 55), RD C at 80, data ends 100.
// Had the decision at 39 not seen B, it would have issued the PRE at 39: ACT row 9 at 55,
// RD C 71 (end 91), and B would have reopened row 5 after tRAS: PRE 94, ACT 110, RD 126.
const std::vector<std::pair<uint64_t, char>> kRule = {{0, 'A'}, {16, 'R'}, {39, 'R'}, {48, 'P'}, {64, 'A'}, {80, 'R'}};

}  // namespace

TEST_CASE("ddr tie: a request arriving as the scheduler wakes is seen by that decision", "[memory][ddr_tie]") {
  std::map<size_t, uint64_t> done;
  CHECK(three_reads(0, done) == kRule);
  CHECK(done == std::map<size_t, uint64_t>{{0, 36}, {1, 100}, {2, 59}});
}

TEST_CASE("ddr tie: the same when the request comes deltas after the scheduler ran", "[memory][ddr_tie]") {
  // Three delta cycles late: the kernel has certainly run the scheduler's wake-up first; the
  // decision still waits for the request (nothing else may be due at that instant).
  std::map<size_t, uint64_t> done;
  CHECK(three_reads(3, done) == kRule);
  CHECK(done == std::map<size_t, uint64_t>{{0, 36}, {1, 100}, {2, 59}});
}
