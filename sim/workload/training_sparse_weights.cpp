#include "sim/workload/training_sparse_weights.h"

#include <algorithm>
#include <cmath>

namespace bpsim::workload {

uint64_t kept_weights(uint64_t positions, double density) {
  if (density <= 0) return 0;
  const auto k = uint64_t(std::llround(density * double(positions)));
  return std::min(positions, std::max<uint64_t>(1, k));
}

CompactWeights compact_weights(WeightFormat format, uint64_t rows, uint64_t cols, double density, uint64_t elem_bytes,
                               unsigned index_bits) {
  CompactWeights w;
  w.positions = rows * cols;
  w.kept = format == WeightFormat::dense ? w.positions : kept_weights(w.positions, density);
  w.value_bytes = w.kept * elem_bytes;
  if (format == WeightFormat::csr) w.index_bytes = (w.kept * index_bits + 7) / 8 + (rows + 1) * 4;
  if (format == WeightFormat::bitmap) w.index_bytes = (w.positions + 7) / 8;
  if (format == WeightFormat::triplet) w.index_bytes = (w.kept * 2 * index_bits + 7) / 8;
  return w;
}

const config::Binder<PruneRegrowSpec>& prune_regrow_binder() {
  static const auto b = [] {
    config::Binder<PruneRegrowSpec> p("prune_regrow",
                                      "sparse evolutionary training (SET): magnitude prune and random regrow of the "
                                      "layers with weight_density < 1");
    p.real("fraction", &PruneRegrowSpec::fraction, "",
           "ζ: share of each layer's kept weights pruned and regrown, above 0 (0 would price a prune round "
           "that moves nothing: leave prune_regrow out); giving it turns SET on")
        .range(0, 1)
        .exclusive_min();
    p.integer("interval", &PruneRegrowSpec::interval, "steps",
              "steps between two prune-regrow rounds (the step reported is one that runs it; default 1)")
        .range(1, int64_t(1) << 30);
    return p;
  }();
  return b;
}

}  // namespace bpsim::workload
