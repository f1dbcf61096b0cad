#include "sim/ir/breakdown.h"

#include "sim/core/checked.h"

namespace bpsim::workload {

MemoryBreakdown memory_breakdown(const OpGraph& g) {
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
  b.total = sum_or_throw("memory breakdown", {b.weights, b.optimizer_state, b.input, b.peak});
  return b;
}

}  // namespace bpsim::workload
