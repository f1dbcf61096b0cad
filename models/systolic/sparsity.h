#pragma once
/// Output-sparsity metadata: which outputs of a GEMM are not needed, and what the array does
/// about it. gate: all masked MACs issue but are power-gated (energy saved, cycles not).
/// skip: wholly masked output rows / columns / tiles are removed from the schedule
/// (compacted, the metadata drives the address generators); masked outputs left inside
/// partially needed structure are gated. Element masks compact only fully masked rows.
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "models/systolic/systolic_params.h"
#include "sim/ir/ir.h"
#include "sim/ir/mask_bitmap.h"

namespace bpsim::systolic {

/// The mask an op runs with: none, a density (seeded random positions), N:M structure, or an
/// explicit bitmap (exact positions: whole rows, columns and tiles are found in it).
struct MaskSpec {
  bool active = false;
  bool nm = false;
  double density = 1.0;
  unsigned n = 0, m = 1;
  std::shared_ptr<const workload::MaskBitmap> bitmap;
};
MaskSpec resolve_mask(const workload::Op& op, const SparsityConfig& cfg);

/// A GEMM (m×k)·(k×n) scheduled `count` times (k is the op's).
struct SubGemm {
  uint64_t m = 0, n = 0, count = 1;
};

/// Effect of a mask on one GEMM instance.
struct MaskEffect {
  std::vector<SubGemm> work;        ///< what is scheduled
  uint64_t masked_outputs = 0;      ///< outputs not needed
  uint64_t skipped_outputs = 0;     ///< masked outputs removed from the schedule (the rest are gated in gate/skip)
  uint64_t units = 0;               ///< mask entries (bits of metadata)
  double kept_tile_fraction = 1.0;  ///< tile skipping: share of tiles still streamed
  /// Tile skipping: share of the along-the-columns axis (the row-streamed operand's rows or
  /// columns) that some column block still needs. An operand held across the column blocks is
  /// read from DRAM for this union once per pass, not for the mean block's share. Bitmaps:
  /// exact; drawn masks (counts, not positions): the largest block's tiles, the least union.
  double kept_union_fraction = 1.0;
  uint64_t metadata_bytes() const { return (units + 7) / 8; }
  uint64_t gated_outputs(SparsityMode mode) const {
    return mode == SparsityMode::off ? 0 : masked_outputs - skipped_outputs;
  }
};

/// Needed units of `units` under an N:M pattern: n of every full group of m, then up to n.
uint64_t nm_kept(uint64_t units, unsigned n, unsigned m);

/// Tiles are `rows` long along the non-column output axis and `cols` wide along the output
/// axis that lies on the array's columns (N for ws/os, M for is), so a tile column is a
/// column fold and a skipped tile removes its rows from that fold's schedule.
MaskEffect apply_mask(uint64_t m, uint64_t n, const MaskSpec& mask, const SparsityConfig& cfg, Dataflow df,
                      unsigned rows, unsigned cols, std::mt19937_64& rng);

}  // namespace bpsim::systolic
