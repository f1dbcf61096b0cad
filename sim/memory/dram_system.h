#pragma once
/// The DRAM module: a TLM-2.0 target (approximately-timed base protocol) in front of
/// per-channel command schedulers, plus the closed-form bulk path tile-level models use.
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <vector>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "sim/memory/ddr_channel.h"
#include "sim/memory/ddr_spec.h"
#include "sim/memory/memory_system.h"

namespace bpsim::memory {

/// DRAMPower's per-command energies (pJ) for one rank, from the spec's IDD currents.
struct DdrEnergy {
  double act_pj = 0, pre_pj = 0, rd_pj = 0, wr_pj = 0, ref_pj = 0;
  double background_mw = 0;  ///< whole device set (all channels and ranks), active standby
  static DdrEnergy from(const DdrSpec& s);
};

class DramSystem : public sc_core::sc_module, public MemorySystem {
 public:
  SC_HAS_PROCESS(DramSystem);
  /// Optional: tile-level models use the bulk path and leave it unbound.
  tlm_utils::simple_target_socket_optional<DramSystem> socket;

  DramSystem(sc_core::sc_module_name name, const DdrSpec& spec);
  const DdrSpec& spec() const { return m_spec; }
  const DdrCounters& counters() const { return m_counters; }
  double tck_ps() const { return m_spec.tck_ns * 1000.0; }

  // MemorySystem (bulk path)
  uint64_t transfer(uint64_t addr, uint64_t bytes, bool is_write, uint64_t issue_ps) override;
  double peak_bytes_per_s() const override { return m_spec.peak_bytes_per_s(); }
  uint64_t capacity_bytes() const override { return m_spec.capacity_bytes(); }
  ActionCounts take_actions() override;
  uint64_t read_bytes() const override { return m_counters.read_bytes; }
  uint64_t write_bytes() const override { return m_counters.write_bytes; }
  /// Counts the refreshes an idle device performs up to the current time (call at the end).
  void settle();
  /// Appends every command the channels issue to `log` (nullptr: none), as tests compare them.
  void record_commands(std::vector<DdrCommand>* log) {
    for (auto& ch : m_channels) ch->record_commands(log);
  }

 private:
  tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& p, tlm::tlm_phase& ph, sc_core::sc_time& t);
  /// The device's one process (an SC_METHOD): sends the responses due, then, once nothing
  /// else is due at this instant (the tie rule), decides the cycle's commands.
  void scheduler();
  uint64_t now_cycle() const;
  /// Earliest cycle ≥ `from` at which some channel can issue (UINT64_MAX: none).
  uint64_t next_decision(uint64_t from) const;
  /// When the scheduler decides next: the next decision's cycle counted from the anchor
  /// (sc_max_time: only when a request arrives).
  sc_core::sc_time wake_time() const;
  /// When the earliest scheduled response is due (sc_max_time: none).
  sc_core::sc_time response_time() const { return m_responses.empty() ? sc_core::sc_max_time() : m_responses.top().at; }
  /// The device's counters into m_stats, once (bound by reference).
  void register_stats();
  /// Cycles one channel needs for `bursts` bursts opening `acts` rows, first access included.
  uint64_t channel_cycles(uint64_t bursts, uint64_t acts, bool is_write) const;
  /// Activations of a transfer charged to one channel: its share of the bursts, rounded up.
  static uint64_t channel_acts(uint64_t acts, uint64_t bursts_c, uint64_t bursts) {
    return (acts * bursts_c + bursts - 1) / bursts;
  }

  DdrSpec m_spec;
  AddressMapper m_mapper;
  sc_core::sc_time m_tck;  ///< one clock cycle
  DdrCounters m_counters;
  std::vector<std::unique_ptr<DdrChannel>> m_channels;
  /// Registers an accepted payload; its id indexes m_by_id until the response is scheduled.
  uint64_t admit(tlm::tlm_generic_payload* p);
  /// A scheduled response: earliest done cycle first, then the order of scheduling.
  struct Response {
    uint64_t done, seq;
    tlm::tlm_generic_payload* p;
    sc_core::sc_time at;  ///< `done` as simulated time
    bool operator>(const Response& o) const { return done != o.done ? done > o.done : seq > o.seq; }
  };

  std::vector<tlm::tlm_generic_payload*> m_by_id;  ///< request id → payload (nullptr: free)
  std::vector<uint64_t> m_free_ids;
  /// Requests refused for want of queue space, oldest first, with the cycle of refusal
  /// (several initiator threads may share the socket; each waits for its END_REQ).
  std::deque<std::pair<tlm::tlm_generic_payload*, uint64_t>> m_blocked;
  std::priority_queue<Response, std::vector<Response>, std::greater<>> m_responses;
  uint64_t m_response_seq = 0;
  std::vector<DdrCompletion> m_done;  ///< the scheduler's completions of one cycle (buffer kept)
  sc_core::sc_event m_new_request;
  // The scheduler wakes once per decision, yet at the times of one that looks again at every
  // arrival and one cycle after every issue (so the sequence is that scheduler's):
  sc_core::sc_time m_wake_time;       ///< when it decides next; ≤ now while it is due
  sc_core::sc_time m_anchor_time;     ///< when it last looked: the decision, or an arrival after
  uint64_t m_anchor_cycle = 0;        ///< the cycle of m_anchor_time
  sc_core::sc_time m_hold_until;      ///< one cycle after a decision that issued: arrivals
                                      ///< before it do not move the anchor
  uint64_t m_floor = 0;               ///< the next decision's earliest cycle: one past the last issue
  std::vector<uint64_t> m_bulk_free;  ///< per channel: cycle the bulk path may issue again
  uint64_t m_bulk_end = 0;            ///< latest bulk completion, for refresh accounting
  uint64_t m_bulk_refs = 0;           ///< refreshes counted for bulk time so far
  std::array<uint64_t, 5> m_taken{};  ///< act, pre, rd, wr, ref already handed out by take_actions
};

}  // namespace bpsim::memory
