#pragma once
/// Command-level timing of one DDR channel: banks, bank groups, ranks, refresh, an
/// FR-FCFS (or FCFS) queue. Pure C++: the caller advances time from one issuable command
/// to the next, so idle cycles cost nothing.
#include <array>
#include <cstdint>
#include <deque>
#include <vector>

#include "sim/memory/ddr_spec.h"

namespace bpsim::memory {

struct DdrCounters {
  uint64_t act = 0, pre = 0, rd = 0, wr = 0, ref = 0;
  uint64_t row_hits = 0, row_misses = 0, row_conflicts = 0;
  uint64_t read_bytes = 0, write_bytes = 0;
  uint64_t requests = 0, latency_cycles = 0;  ///< Σ (completion − arrival)
  uint64_t queue_full_cycles = 0;             ///< stall: requests waiting for queue space
};

struct DdrRequest {
  uint64_t id = 0;
  uint64_t addr = 0;
  bool write = false;
  uint64_t arrive = 0;  ///< cycle the controller accepted it
  DdrAddress a;
  bool needed_act = false, needed_pre = false;
};

struct DdrCompletion {
  uint64_t id;
  uint64_t done;  ///< cycle the last data beat moves
};

class DdrChannel {
 public:
  DdrChannel(const DdrSpec& spec, DdrCounters& counters);
  bool full() const { return m_queue.size() >= m_spec.queue_depth; }
  bool idle() const { return m_queue.empty(); }
  void enqueue(DdrRequest r);
  /// Earliest cycle ≥ now at which some command can issue (refresh included);
  /// UINT64_MAX when nothing is queued and no refresh is due before `horizon`.
  uint64_t next_issue(uint64_t now, uint64_t horizon) const;
  /// With an empty queue: performs the refreshes due before `now` (the channel sat idle).
  void idle_until(uint64_t now);
  /// Issues the best command at `now` if one is ready; appends finished requests.
  void issue(uint64_t now, std::vector<DdrCompletion>& done);

 private:
  struct Bank {
    int64_t open_row = -1;
    uint64_t next_act = 0, next_pre = 0, next_col = 0;
  };
  struct Rank {
    std::array<uint64_t, 4> faw{};  ///< cycles of the last four ACTs, oldest first
    uint64_t last_act = 0;
    int last_act_bg = -1;
    uint64_t next_ref_due = 0;
    bool refresh_pending = false;
    uint64_t wr_data_end = 0;  ///< for tWTR
    int wr_bg = -1;
  };
  enum class Cmd { none, act, pre, rd, wr, ref };
  struct Candidate {
    Cmd cmd = Cmd::none;
    uint64_t t = UINT64_MAX;
    size_t req = 0;     ///< queue index (act/pre/rd/wr)
    unsigned rank = 0;  ///< ref / refresh pre
    unsigned bank = 0;
    bool refresh = false;  ///< a precharge on behalf of a due refresh
  };

  Bank& bank(const DdrAddress& a) { return m_banks[bank_index(a)]; }
  size_t bank_index(const DdrAddress& a) const {
    return (size_t(a.rank) * m_spec.bank_groups + a.bank_group) * m_spec.banks_per_group + a.bank;
  }
  uint64_t act_ready(const DdrAddress& a, uint64_t now) const;
  uint64_t col_ready(const DdrRequest& r, uint64_t now) const;
  Candidate choose(uint64_t now) const;
  /// choose(now), remembered until the channel's state changes (next_issue and issue ask
  /// for the same cycle back to back).
  const Candidate& chosen(uint64_t now) const;
  void do_act(const DdrAddress& a, uint64_t t);
  void do_pre(size_t bank, uint64_t t);

  const DdrSpec& m_spec;
  DdrCounters& m_c;
  std::vector<Bank> m_banks;
  std::vector<Rank> m_ranks;
  std::deque<DdrRequest> m_queue;
  uint64_t m_cmd_bus_free = 0;   ///< one command per cycle
  uint64_t m_data_bus_free = 0;  ///< end of the last burst
  int m_last_data_rank = -1;
  uint64_t m_last_col = 0;
  int m_last_col_bg = -1;
  bool m_any_col = false;
  mutable std::vector<bool> m_wanted;  ///< scratch for choose(): banks with pending hits
  mutable Candidate m_chosen;
  mutable uint64_t m_chosen_at = kNoCycle;  ///< cycle m_chosen is for; kNoCycle: stale
  static constexpr uint64_t kNoCycle = UINT64_MAX;
};

}  // namespace bpsim::memory
