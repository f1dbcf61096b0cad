#include "sim/ir/breakdown.h"

#include <algorithm>

#include "sim/core/checked.h"

namespace bpsim::workload {

MemoryBreakdown memory_breakdown(const OpGraph& g, uint64_t optimizer_step, uint64_t workspaces) {
  MemoryBreakdown b;
  for (const Tensor& t : g.tensors) {
    uint64_t* into = t.role == TensorRole::weight            ? &b.weights
                     : t.role == TensorRole::weight_gradient ? &b.gradients
                     : t.role == TensorRole::optimizer_state ? &b.optimizer_state
                     : t.role == TensorRole::input           ? &b.input
                                                             : nullptr;
    if (into) *into = sum_or_throw("memory breakdown", {*into, t.bytes});
  }
  b.activations = g.memory.saved_after_forward_bytes;
  b.peak = g.memory.peak_bytes;
  b.temporaries = int64_t(b.peak) - int64_t(b.activations) - int64_t(b.gradients);
  b.optimizer_step = optimizer_step;
  b.workspaces = workspaces;
  // The step's high-water mark is the forward/backward peak, or the optimizer step's: the
  // gradients and its own temporaries, once the activations are gone.
  const uint64_t high = std::max(b.peak, sum_or_throw("memory breakdown", {b.gradients, optimizer_step}));
  b.total = sum_or_throw("memory breakdown", {b.weights, b.optimizer_state, b.input, workspaces, high});
  return b;
}

}  // namespace bpsim::workload
