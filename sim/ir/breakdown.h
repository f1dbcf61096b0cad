#pragma once
/// Where a training step's memory goes: weights, gradients, optimizer state, the input, the
/// activations kept after the forward and the temporaries at the peak, from a built graph
/// (`bpsim workload --breakdown`; docs/workloads.md, "Memory breakdown").
#include <cstdint>

#include "sim/ir/ir.h"

namespace bpsim::workload {

struct MemoryBreakdown {
  uint64_t weights = 0;          ///< parameters (TensorRole::weight)
  uint64_t gradients = 0;        ///< every parameter's .grad (TensorRole::weight_gradient)
  uint64_t optimizer_state = 0;  ///< moments, momentum, fp32 master copies (TensorRole::optimizer_state)
  uint64_t input = 0;            ///< the batch (TensorRole::input)
  uint64_t activations = 0;      ///< kept after the forward: MemorySummary::saved_after_forward_bytes
  /// peak − activations − gradients: what else is live at the peak (backward buffers, casts,
  /// recomputed tensors). Negative when the peak comes before all gradients exist while
  /// activations are already freed, so that both are never live in full at once.
  int64_t temporaries = 0;
  uint64_t peak = 0;  ///< MemorySummary::peak_bytes (gradients, activations, temporaries)
  /// What the optimizer step allocates for itself on top of the gradients, after the backward
  /// has freed the activations (a framework's: 0 without one).
  uint64_t optimizer_step = 0;
  /// Library workspaces a process keeps from its first step on, a per-device constant (a
  /// framework's: 0 without one).
  uint64_t workspaces = 0;
  /// weights + optimizer state + input + workspaces + the larger of peak and gradients +
  /// optimizer_step: the step's high-water mark (the sum of the lines above when the forward
  /// and backward set it).
  uint64_t total = 0;
};

/// The breakdown of a graph whose memory has been accounted (account_memory), with the
/// framework's optimizer-step transient and workspaces (sim/workload/framework.h) as given.
MemoryBreakdown memory_breakdown(const OpGraph& g, uint64_t optimizer_step = 0, uint64_t workspaces = 0);

}  // namespace bpsim::workload
