#pragma once
/// Sparse weights kept in a compact index format (in-situ pruning with compact indexing) and
/// sparse evolutionary training's prune-and-regrow (SET): the layer keys `weight_format` and
/// `index_bits`, the spec's `training: {prune_regrow: ...}`, the sizes they give and the
/// prune/regrow ops of a step (docs/techniques.md "In-situ pruning with compact indexing,
/// sparse evolutionary training").
#include <cstdint>
#include <optional>
#include <string>

#include "sim/core/binder.h"
#include "sim/core/enum_names.h"

namespace bpsim::workload {

/// How a pruned layer stores its weights: dense with zeros (every position, as torch's
/// masked pruning does), CSR (values, a column index of `index_bits` per kept weight and a
/// 32-bit row pointer per row), a bitmap (values and one bit per position) or triplets (each
/// kept weight with the indices of the two neurons it connects, `index_bits` each: Nano
/// Dimension's compact sparse storage, US 10,366,322).
enum class WeightFormat { dense, csr, bitmap, triplet };
inline constexpr config::EnumName<WeightFormat> kWeightFormatNames[] = {{WeightFormat::dense, "dense"},
                                                                        {WeightFormat::csr, "csr"},
                                                                        {WeightFormat::bitmap, "bitmap"},
                                                                        {WeightFormat::triplet, "triplet"}};

/// The weights of one layer as stored: `rows` × `cols` positions (out × in·kernel), of which
/// `kept` are kept.
struct CompactWeights {
  uint64_t positions = 0, kept = 0;
  uint64_t value_bytes = 0, index_bytes = 0;
  uint64_t bytes() const { return value_bytes + index_bytes; }
};

/// Weights kept of `positions` at `density` (rounded to the nearest, at least 1 when density > 0).
uint64_t kept_weights(uint64_t positions, double density);

/// The storage of a `rows` × `cols` weight at `density` in `format`, `elem_bytes` per value.
CompactWeights compact_weights(WeightFormat format, uint64_t rows, uint64_t cols, double density, uint64_t elem_bytes,
                               unsigned index_bits);

/// SET (Mocanu et al. 2018): every `interval` steps, the fraction ζ of each sparse layer's kept
/// weights with the smallest magnitude is pruned and as many new ones are grown at random
/// positions. Off unless `fraction` is given.
struct PruneRegrowSpec {
  std::optional<double> fraction;    ///< ζ
  std::optional<uint64_t> interval;  ///< steps between two prune-regrow rounds (absent: 1)
  bool on() const { return fraction.has_value(); }
};

/// The `prune_regrow:` keys, declared once.
const config::Binder<PruneRegrowSpec>& prune_regrow_binder();

}  // namespace bpsim::workload
