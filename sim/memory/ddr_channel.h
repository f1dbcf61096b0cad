#pragma once
/// Command-level timing of one DDR channel: banks, bank groups, ranks, refresh, an
/// FR-FCFS (or FCFS) queue. Pure C++: the caller advances time from one issuable command
/// to the next, so idle cycles cost nothing.
#include <array>
#include <cstdint>
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

/// One command issue() performed, as a test records it to compare two schedulers.
struct DdrCommand {
  uint64_t cycle = 0;
  char kind = '?';              ///< A(ct), P(re), R(ead), W(rite), F (refresh)
  unsigned rank = 0, bank = 0;  ///< bank within the rank
  uint64_t request = 0;         ///< the request's id; 0 for refresh commands
  bool operator==(const DdrCommand& o) const {
    return cycle == o.cycle && kind == o.kind && rank == o.rank && bank == o.bank && request == o.request;
  }
};

class DdrChannel {
 public:
  DdrChannel(const DdrSpec& spec, DdrCounters& counters);
  bool full() const { return m_count >= m_spec.queue_depth; }
  bool idle() const { return m_count == 0; }
  void enqueue(const DdrRequest& r);
  /// Earliest cycle ≥ now at which some command can issue (refresh included);
  /// UINT64_MAX when nothing is queued and no refresh is due before `horizon`.
  uint64_t next_issue(uint64_t now, uint64_t horizon) const;
  /// With an empty queue: performs the refreshes due before `now` (the channel sat idle).
  void idle_until(uint64_t now);
  /// Issues the best command at `now` if one is ready; appends finished requests.
  void issue(uint64_t now, std::vector<DdrCompletion>& done);

  /// Appends every command issue() performs to `log` (nullptr: none).
  void record_commands(std::vector<DdrCommand>* log) { m_log = log; }
  /// Decides by rescanning the whole queue in arrival order, as the scheduler did before
  /// the per-bank index: the reference the differential test holds the index to.
  void use_queue_scan(bool on) {
    m_scan = on;
    m_chosen_at = kNoCycle;
  }

 private:
  static constexpr uint32_t kNil = UINT32_MAX;
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
  /// A queued request in the slot pool, linked into the channel's arrival order and into
  /// its bank's (both oldest first).
  struct Slot {
    DdrRequest r;
    uint64_t seq = 0;  ///< arrival number, from 1: FR-FCFS's age
    uint32_t bank = 0;
    uint32_t older = kNil, younger = kNil;
    uint32_t bank_older = kNil, bank_younger = kNil;
  };
  /// A bank's queue and the only requests of it FR-FCFS can pick: the oldest read and the
  /// oldest write that hit the open row, and the oldest request that does not (it opens its
  /// row, or closes the open one). Recomputed from the bank's queue when `stale`.
  struct BankQueue {
    uint32_t oldest = kNil, youngest = kNil;
    uint32_t hit_rd = kNil, hit_wr = kNil, other = kNil;
    bool stale = false;
    uint32_t active_at = kNil;  ///< position in m_active while the queue is not empty
  };
  enum class Cmd { none, act, pre, rd, wr, ref };
  struct Candidate {
    Cmd cmd = Cmd::none;
    uint64_t t = UINT64_MAX;
    uint32_t req = kNil;  ///< slot (act/pre/rd/wr)
    unsigned rank = 0;    ///< ref / refresh pre
    unsigned bank = 0;
    bool refresh = false;  ///< a precharge on behalf of a due refresh
    uint64_t seq = 0;      ///< the request's age; 0 for refresh commands, which come first
    bool column() const { return cmd == Cmd::rd || cmd == Cmd::wr; }
  };

  size_t bank_index(const DdrAddress& a) const {
    return (size_t(a.rank) * m_spec.bank_groups + a.bank_group) * m_spec.banks_per_group + a.bank;
  }
  uint64_t act_ready(const DdrAddress& a, uint64_t now) const;
  uint64_t col_ready(const DdrRequest& r, uint64_t now) const;
  /// The refresh commands of due ranks: the earliest, first rank and bank on ties.
  Candidate refresh_candidate(uint64_t now) const;
  /// FR-FCFS over the per-bank index: the earliest command, a column command (row hit) on
  /// ties, then the oldest request.
  Candidate choose(uint64_t now) const;
  /// The same decision by a pass over the whole queue (use_queue_scan).
  Candidate choose_by_scan(uint64_t now) const;
  /// The command a request needs next and its earliest cycle; `cmd` none when it must wait
  /// (a row may not open, or close, in a rank whose refresh is due).
  Candidate request_candidate(uint32_t slot, uint64_t now) const;
  /// choose(now), remembered until the channel's state changes (next_issue and issue ask
  /// for the same cycle back to back).
  const Candidate& chosen(uint64_t now) const;
  void refresh_bank_queue(uint32_t bank) const;
  void unlink(uint32_t slot);
  void do_act(const DdrAddress& a, uint64_t t);
  void do_pre(size_t bank, uint64_t t);

  const DdrSpec& m_spec;
  DdrCounters& m_c;
  std::vector<Bank> m_banks;
  std::vector<Rank> m_ranks;
  std::vector<Slot> m_slots;
  std::vector<uint32_t> m_free;  ///< unused slots
  mutable std::vector<BankQueue> m_bank_queues;
  std::vector<uint32_t> m_active;  ///< banks with queued requests, in no order
  uint32_t m_oldest = kNil, m_youngest = kNil;
  size_t m_count = 0;
  uint64_t m_seq = 0;
  uint64_t m_cmd_bus_free = 0;   ///< one command per cycle
  uint64_t m_data_bus_free = 0;  ///< end of the last burst
  int m_last_data_rank = -1;
  uint64_t m_last_col = 0;
  int m_last_col_bg = -1;
  bool m_any_col = false;
  bool m_scan = false;
  std::vector<DdrCommand>* m_log = nullptr;
  mutable std::vector<bool> m_wanted;  ///< scratch for choose_by_scan(): banks with pending hits
  mutable Candidate m_chosen;
  mutable uint64_t m_chosen_at = kNoCycle;  ///< cycle m_chosen is for; kNoCycle: stale
  static constexpr uint64_t kNoCycle = UINT64_MAX;
};

}  // namespace bpsim::memory
