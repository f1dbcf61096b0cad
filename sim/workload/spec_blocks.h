#pragma once
/// Composite layers written as primitives (what PyTorch's modules run, op by op).
#include <cstdint>
#include <optional>
#include <string>

#include "sim/core/params.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

/// The keys of one layer map; each kind declares and fills its own of them (spec.cpp).
struct LayerParams {
  std::string kind;
  std::optional<std::string> name;
  std::string tied;
  uint64_t out_features, out_channels, kernel, padding, groups, vocab, dim, hidden, heads, mlp_ratio;
  std::optional<uint64_t> stride;  ///< pools: absent means the kernel
  bool bias, global, causal;
  double weight_density, density, p, dropout;
  /// Layers of current networks (spec_networks.cpp): MLP width, patch size, table rows.
  uint64_t intermediate, patch, rows, positions, token_types;
  bool class_token, lookup;
};

/// Expands attention, transformer_block, basic_block or bottleneck (its parameters `q`, the
/// validated values `v` for messages, `l` holding kind, name and location) into a
/// `sequence` of primitives and residuals.
LayerSpec expand_block(const LayerParams& q, const config::Values& v, const LayerSpec& l);

/// The projection shortcut of a ResNet block: 1×1 conv with `stride`, then batchnorm.
std::vector<LayerSpec> projection_shortcut(const LayerSpec& residual, uint64_t channels, uint64_t stride);

}  // namespace bpsim::workload
