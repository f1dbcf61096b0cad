#include "sim/ir/breakdown.h"

#include <algorithm>
#include <stdexcept>

#include "sim/core/checked.h"
#include "sim/ir/liveness.h"

namespace bpsim::workload {

namespace {

/// Bytes of gradients, activations and temporaries live while the first op at the peak runs
/// (the liveness walk's order: an op's new tensors are live while it runs).
struct LiveSplit {
  uint64_t gradients = 0, activations = 0, temporaries = 0;
};

LiveSplit live_at_peak(const OpGraph& g) {
  const LiveEvents ev = live_events(g);
  std::vector<uint8_t> made_by_forward(g.tensors.size(), 0);
  for (const Op& o : g.ops)
    if (o.phase == Phase::forward || o.phase == Phase::recompute)
      for (uint32_t t : o.writes) made_by_forward[t] = 1;
  LiveSplit live, best;
  uint64_t best_sum = 0;
  bool any = false;
  auto bucket = [&](uint32_t t) -> uint64_t& {
    return g.tensors[t].role == TensorRole::weight_gradient ? live.gradients
           : made_by_forward[t]                             ? live.activations
                                                            : live.temporaries;
  };
  for (const Op& o : g.ops) {
    for (uint32_t t : ev.alloc_before[o.id]) bucket(t) += g.tensors[t].bytes;
    const uint64_t sum = live.gradients + live.activations + live.temporaries;
    if (!any || sum > best_sum) best = live, best_sum = sum, any = true;
    for (uint32_t t : ev.free_after[o.id]) bucket(t) -= g.tensors[t].bytes;
  }
  return best;
}

}  // namespace

MemoryBreakdown memory_breakdown(const OpGraph& g, uint64_t optimizer_step, uint64_t workspaces) {
  MemoryBreakdown b;
  uint64_t all_gradients = 0;
  for (const Tensor& t : g.tensors) {
    uint64_t* into = t.role == TensorRole::weight            ? &b.weights
                     : t.role == TensorRole::weight_gradient ? &all_gradients
                     : t.role == TensorRole::optimizer_state ? &b.optimizer_state
                     : t.role == TensorRole::input           ? &b.input
                                                             : nullptr;
    if (into) *into = sum_or_throw("memory breakdown", {*into, t.bytes});
  }
  b.saved_after_forward = g.memory.saved_after_forward_bytes;
  b.peak = g.memory.peak_bytes;
  b.optimizer_step_transient = optimizer_step;
  b.workspaces = workspaces;
  // The step's high-water mark is the forward/backward peak, or the optimizer step's: every
  // gradient and its own temporaries, once the activations are gone.
  const uint64_t step = sum_or_throw("memory breakdown", {all_gradients, optimizer_step});
  if (b.peak >= step) {
    const LiveSplit at = live_at_peak(g);
    if (at.gradients + at.activations + at.temporaries != b.peak)
      throw std::logic_error("memory breakdown: the live set at the peak does not add up to peak_bytes");
    b.gradients = at.gradients;
    b.activations = at.activations;
    b.temporaries = at.temporaries;
  } else {
    b.gradients = all_gradients;
    b.optimizer_step = optimizer_step;
  }
  b.total =
      sum_or_throw("memory breakdown", {b.weights, b.optimizer_state, b.input, workspaces, std::max(b.peak, step)});
  return b;
}

}  // namespace bpsim::workload
