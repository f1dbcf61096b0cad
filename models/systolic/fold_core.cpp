#include "models/systolic/fold_core.h"

#include <algorithm>

#include "sim/core/int_math.h"

namespace bpsim::systolic {

uint64_t busy_stages(uint64_t k_rows, uint64_t rows, unsigned stages) {
  const uint64_t per_stage = rows / stages;
  return std::min<uint64_t>(stages, ceil_div(std::max<uint64_t>(k_rows, 1), per_stage));
}

namespace {
/// Rows a partial sum crosses: all R (one stage; os, whose rows are not the reduction), or
/// those of the busy stages.
uint64_t psum_rows(const FoldMap& f, Dataflow df, unsigned stages, uint64_t k_rows) {
  if (stages == 1 || df == Dataflow::os) return f.rows;
  return busy_stages(k_rows, f.rows, stages) * (f.rows / stages);
}
}  // namespace

uint64_t scalesim_fold_cycles(const FoldMap& f, Dataflow df, unsigned stages, uint64_t k_rows) {
  const uint64_t preload = df == Dataflow::os ? 0 : f.rows;
  return f.t + psum_rows(f, df, stages, k_rows) + f.cols - 2 + preload + (stages - 1);
}

FoldTiming time_folds(const FoldMap& f, Dataflow df, Timing t, unsigned stages) {
  FoldTiming r;
  if (f.folds() == 0 || f.t == 0) return r;
  // Only the last row fold can leave stages idle (the others use all R rows); os has none.
  const uint64_t idle = df == Dataflow::os ? 0 : stages - busy_stages(f.r_last, f.rows, stages);
  const uint64_t idle_pes = idle * (f.rows / stages) * f.cols;
  if (t == Timing::scalesim) {
    const uint64_t last = scalesim_fold_cycles(f, df, stages, f.r_last);
    r.steady_cycles = f.fc * ((f.fr - 1) * scalesim_fold_cycles(f, df, stages, f.rows) + last);
    r.idle_stage_pe_cycles = f.fc * idle_pes * last;
    return r;
  }
  // Each fold streams one T tile (the whole T unless the mapping tiles it): (ft − 1) tiles
  // of tt and one of t_last, each over every row and column fold; the last row fold of each
  // leaves its idle stages idle for its stream.
  const auto per_tile = [&](uint64_t t) { return f.fc * ((f.fr - 1) * std::max(t, f.rows) + std::max(t, f.r_last)); };
  r.steady_cycles = (f.ft - 1) * per_tile(f.tt) + per_tile(f.t_last);
  r.idle_stage_pe_cycles = f.fc * idle_pes * ((f.ft - 1) * std::max(f.tt, f.r_last) + std::max(f.t_last, f.r_last));
  // First stationary tile shifted in before anything streams (os: outputs shifted out
  // after the last fold instead — the same rows of shifting), then the wavefront's skew
  // across rows and columns plus one cycle per stage register.
  r.edge_cycles = f.r_eff() + (f.r_eff() + f.c_eff() - 2) + (stages - 1);
  return r;
}

ArrayCounts count_array(const FoldMap& f, unsigned stages, bool metadata) {
  ArrayCounts c;
  c.macs = f.sr * f.sc * f.t;
  c.reg_writes = 2 * c.macs;
  // Every row fold's T partial sums of each column cross the S − 1 boundaries (a bypassed
  // stage still latches them in its boundary register); with a mask, each carries its bit.
  c.stage_reg_writes = uint64_t(stages - 1) * f.sc * f.t * f.fr;
  c.meta_reg_writes = metadata ? c.stage_reg_writes : 0;
  return c;
}

}  // namespace bpsim::systolic
