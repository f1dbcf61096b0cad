#pragma once
/// Composite layers written as primitives (what PyTorch's modules run, op by op).
#include "sim/core/params.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

/// Expands attention, transformer_block, basic_block or bottleneck (validated values `v`,
/// `l` holding kind, name and location) into a `sequence` of primitives and residuals.
LayerSpec expand_block(const config::Values& v, const LayerSpec& l);

/// The projection shortcut of a ResNet block: 1×1 conv with `stride`, then batchnorm.
std::vector<LayerSpec> projection_shortcut(const LayerSpec& residual, uint64_t channels, uint64_t stride);

}  // namespace bpsim::workload
