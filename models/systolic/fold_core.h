#pragma once
/// Core: times the folds of one mapped GEMM and counts the array's own actions. Inputs and
/// outputs are plain numbers per fold group, so an RTL block can replace it (backend: rtl).
/// Identical folds are timed in closed form: cost does not grow with the cycle count.
///
/// Stages (docs/systolic.md, "Stages"): the R rows are S chained stages of R/S rows along
/// the reduction (ws, is: the rows hold K). A fold's K rows fill stage 1 first; a stage
/// with none of them is idle: its partial sums take the stage's bypass (straight to its
/// boundary register) and its PEs are power-gated. Each stage boundary is a register on the
/// partial-sum path, and, with output sparsity on, a register for the mask bit travelling
/// with each partial sum.
#include <cstdint>

#include "models/systolic/mapper.h"

namespace bpsim::systolic {

struct FoldTiming {
  uint64_t steady_cycles = 0;         ///< folds back to back (SCALE-Sim: each with its fill and drain)
  uint64_t edge_cycles = 0;           ///< overlapped: first preload + final skew/drain, once per op
  uint64_t idle_stage_pe_cycles = 0;  ///< PE-cycles of idle (bypassed, power-gated) stages in the steady folds
  uint64_t total() const { return steady_cycles + edge_cycles; }
};

/// Stages a fold that uses `k_rows` of the array's reduction rows keeps busy: ⌈k_rows / (rows / stages)⌉.
uint64_t busy_stages(uint64_t k_rows, uint64_t rows, unsigned stages);

/// SCALE-Sim v2: every fold costs T + R + C − 2 cycles, plus R more to preload the
/// stationary operand in ws and is (its demand matrices: prefix R, suffix C − 1, skew R − 1).
/// With S > 1 stages, R in the partial sums' path becomes the rows of the busy stages for a
/// fold of `k_rows` reduction rows (idle stages are bypassed), and each of the S − 1 stage
/// boundaries adds its register's cycle; the preload still shifts through all R rows. With
/// one stage this is SCALE-Sim's formula whatever `k_rows` is.
uint64_t scalesim_fold_cycles(const FoldMap& f, Dataflow df, unsigned stages, uint64_t k_rows);

/// Timing of one GEMM instance. Overlapped: a fold takes max(T tile, rows it swaps) because the
/// next stationary tile is shifted in (ws/is) or the finished outputs shifted out (os)
/// while the current fold streams; the array is filled once and drained once per op.
FoldTiming time_folds(const FoldMap& f, Dataflow df, Timing t, unsigned stages);

struct ArrayCounts {
  uint64_t macs = 0;              ///< issued (Sr·Sc·T)
  uint64_t reg_writes = 0;        ///< forwarded operand + partial sum per issued MAC
  uint64_t stage_reg_writes = 0;  ///< partial sums crossing stage boundaries (bypassed stages' too)
  uint64_t meta_reg_writes = 0;   ///< mask bits latched with them (output sparsity on)
};
/// `metadata`: output sparsity is on, so every partial sum carries its mask bit.
ArrayCounts count_array(const FoldMap& f, unsigned stages, bool metadata);

}  // namespace bpsim::systolic
