#include "models/systolic/fold_core.h"

#include <algorithm>

namespace bpsim::systolic {

uint64_t scalesim_fold_cycles(const FoldMap& f, Dataflow df, unsigned stages) {
  const uint64_t preload = df == Dataflow::os ? 0 : f.rows;
  return f.t + f.rows + f.cols - 2 + preload + (stages - 1);
}

FoldTiming time_folds(const FoldMap& f, Dataflow df, Timing t, unsigned stages) {
  FoldTiming r;
  if (f.folds() == 0 || f.t == 0) return r;
  if (t == Timing::scalesim) {
    r.steady_cycles = f.folds() * scalesim_fold_cycles(f, df, stages);
    return r;
  }
  // Each fold streams one T tile (the whole T unless the mapping tiles it): (ft − 1) tiles
  // of tt and one of t_last, each over every row and column fold.
  const auto per_tile = [&](uint64_t t) { return f.fc * ((f.fr - 1) * std::max(t, f.rows) + std::max(t, f.r_last)); };
  r.steady_cycles = (f.ft - 1) * per_tile(f.tt) + per_tile(f.t_last);
  // First stationary tile shifted in before anything streams (os: outputs shifted out
  // after the last fold instead — the same rows of shifting), then the wavefront's skew
  // across rows and columns plus one cycle per stage register.
  r.edge_cycles = f.r_eff() + (f.r_eff() + f.c_eff() - 2) + (stages - 1);
  return r;
}

ArrayCounts count_array(const FoldMap& f, unsigned stages) {
  ArrayCounts c;
  c.macs = f.sr * f.sc * f.t;
  c.reg_writes = 2 * c.macs;
  c.stage_reg_writes = uint64_t(stages - 1) * f.sc * f.t * f.fr;
  return c;
}

}  // namespace bpsim::systolic
