#pragma once
/// Core: times the folds of one mapped GEMM and counts the array's own actions. Inputs and
/// outputs are plain numbers per fold group, so an RTL block can replace it (backend: rtl).
/// Identical folds are timed in closed form: cost does not grow with the cycle count.
#include <cstdint>

#include "models/systolic/mapper.h"

namespace bpsim::systolic {

struct FoldTiming {
  uint64_t steady_cycles = 0;  ///< folds back to back (SCALE-Sim: each with its fill and drain)
  uint64_t edge_cycles = 0;    ///< overlapped: first preload + final skew/drain, once per op
  uint64_t total() const { return steady_cycles + edge_cycles; }
};

/// SCALE-Sim v2: every fold costs T + R + C − 2 cycles, plus R more to preload the
/// stationary operand in ws and is (its demand matrices: prefix R, suffix C − 1, skew R − 1);
/// a pipeline-stage boundary adds one cycle per fold (0 with one stage).
uint64_t scalesim_fold_cycles(const FoldMap& f, Dataflow df, unsigned stages);

/// Timing of one GEMM instance. Overlapped: a fold takes max(T tile, rows it swaps) because the
/// next stationary tile is shifted in (ws/is) or the finished outputs shifted out (os)
/// while the current fold streams; the array is filled once and drained once per op.
FoldTiming time_folds(const FoldMap& f, Dataflow df, Timing t, unsigned stages);

struct ArrayCounts {
  uint64_t macs = 0;              ///< issued (Sr·Sc·T)
  uint64_t reg_writes = 0;        ///< forwarded operand + partial sum per issued MAC
  uint64_t stage_reg_writes = 0;  ///< partial sums crossing stage boundaries
};
ArrayCounts count_array(const FoldMap& f, unsigned stages);

}  // namespace bpsim::systolic
