#pragma once
/// Times and counts a plan's jobs on the device: identical sequences run in lockstep on up
/// to units_per_rank subarrays per rank (power limit), ranks and channels independently;
/// with obey_tfaw, a rank raises at most 4 wordlines per tFAW (a multi-row ACT counts each
/// of its rows) and issues one ACT per tRRD_S.
#include <cstdint>

#include "models/pim/mapper.h"
#include "sim/core/energy.h"

namespace bpsim::pim {

struct JobTiming {
  uint64_t cycles = 0;
  uint64_t rounds = 0;        ///< lockstep rounds
  uint64_t active_units = 0;  ///< subarrays per rank active in a round
  bool tfaw_bound = false;    ///< a round is limited by tFAW/tRRD, not by the sequence
};

class Core {
 public:
  explicit Core(const PimSpec& s) : m_s(s) {}
  explicit Core(PimSpec&&) = delete;  ///< keeps a reference: no temporaries
  JobTiming time(const Job& j) const;
  /// Cycles and totals of all jobs of a plan, run one after another.
  uint64_t run(const OpPlan& p, Seq* total) const;
  /// Energy actions of a sequence total (DRAM commands priced by the memory system).
  static ActionCounts actions(const Seq& total);

 private:
  const PimSpec& m_s;
};

}  // namespace bpsim::pim
