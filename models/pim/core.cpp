#include "models/pim/core.h"

#include <algorithm>

#include "models/pim/pim_actions.h"
#include "sim/memory/memory_system.h"

namespace bpsim::pim {

JobTiming Core::time(const Job& j) const {
  JobTiming t;
  if (j.count == 0) return t;
  const uint64_t ranks = m_s.ranks_total();
  const uint64_t per_rank = (j.count + ranks - 1) / ranks;
  const uint64_t k = std::min<uint64_t>(m_s.units_per_rank(), per_rank);
  t.active_units = k;
  t.rounds = (per_rank + k - 1) / k;
  uint64_t round = j.seq.cycles;
  if (m_s.obey_tfaw) {
    // tFAW bounds the current a rank draws to restore rows (JEDEC JESD79-4: at most four
    // ACTs in any tFAW window), and that current scales with the wordlines raised, so every
    // raised wordline counts as one activation: a TRA as three, a charge-sharing step of
    // 16 rows as sixteen. tRRD_S spaces the ACT commands themselves (one per row address).
    const uint64_t acts = k * j.seq.acts, wordlines = k * (j.seq.acts + j.seq.extra_rows);
    const uint64_t faw = (wordlines + 3) / 4 * m_s.ddr.tfaw;
    const uint64_t rrd = acts * m_s.ddr.trrd_s;
    const uint64_t bound = std::max(faw, rrd);
    if (bound > round) {
      round = bound;
      t.tfaw_bound = true;
    }
  }
  t.cycles = t.rounds * round;
  return t;
}

uint64_t Core::run(const OpPlan& p, Seq* total) const {
  uint64_t cycles = 0;
  for (const Job& j : p.jobs) {
    cycles += time(j).cycles;
    if (total) *total += j.seq * j.count;
  }
  return cycles;
}

ActionCounts Core::actions(const Seq& t) {
  const memory::DramActions& dram = memory::dram_actions();
  ActionCounts a;
  if (t.acts) a[dram.act] = t.acts;
  if (t.pres) a[dram.pre] = t.pres;
  if (t.extra_rows) a[pim_actions().extra_row] = t.extra_rows;
  if (t.bursts) a[pim_actions().psm_burst] = t.bursts;
  return a;
}

}  // namespace bpsim::pim
