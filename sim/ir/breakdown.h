#pragma once
/// Where a training step's memory goes: weights, gradients, optimizer state, the input, the
/// activations kept after the forward and the temporaries at the peak, from a built graph
/// (`bpsim workload --breakdown`; docs/workloads.md, "Memory breakdown").
#include <cstdint>

#include "sim/ir/ir.h"

namespace bpsim::workload {

/// Every line but `saved_after_forward`, `peak` and `optimizer_step_transient` is what is live
/// at the step's high-water mark, so the lines are never negative and add up to `total`.
struct MemoryBreakdown {
  uint64_t weights = 0;          ///< parameters (TensorRole::weight)
  uint64_t optimizer_state = 0;  ///< moments, momentum, fp32 master copies (TensorRole::optimizer_state)
  uint64_t input = 0;            ///< the batch (TensorRole::input)
  /// Library workspaces a process keeps from its first step on, a per-device constant (a
  /// framework's: 0 without one).
  uint64_t workspaces = 0;
  uint64_t gradients = 0;  ///< parameters' .grad live at the high-water mark (TensorRole::weight_gradient)
  /// Tensors the forward or a recompute wrote that are live at the high-water mark: what the
  /// backward still needs of them.
  uint64_t activations = 0;
  /// Everything else live at the high-water mark: backward buffers (dX, dW, …), casts,
  /// workspaces of kernels, the loss's gradient.
  uint64_t temporaries = 0;
  /// The optimizer step's own temporaries when its moment is the high-water mark, else 0.
  uint64_t optimizer_step = 0;
  /// weights + optimizer state + input + workspaces + the larger of the forward/backward peak
  /// and the optimizer step's (all gradients + its temporaries): the sum of the lines above.
  uint64_t total = 0;
  uint64_t saved_after_forward = 0;       ///< MemorySummary::saved_after_forward_bytes
  uint64_t peak = 0;                      ///< MemorySummary::peak_bytes (the forward/backward high-water)
  uint64_t optimizer_step_transient = 0;  ///< what the optimizer step allocates (a framework's: 0 without one)
};

/// The breakdown of a graph whose memory has been accounted (account_memory), with the
/// framework's optimizer-step transient and workspaces (sim/workload/framework.h) as given.
MemoryBreakdown memory_breakdown(const OpGraph& g, uint64_t optimizer_step = 0, uint64_t workspaces = 0);

}  // namespace bpsim::workload
