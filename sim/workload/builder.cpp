#include "sim/workload/builder.h"

#include <algorithm>

#include "sim/core/error.h"
#include "sim/workload/emit.h"
#include "sim/workload/plan.h"

namespace bpsim::workload {

std::string Policy::name() const {
  switch (kind) {
    case Kind::none: return "none";
    case Kind::checkpoint: return "checkpoint";
    case Kind::checkpoint_sequential: return "checkpoint_sequential(" + std::to_string(segments) + ")";
    case Kind::full_recompute: return "full_recompute";
  }
  return "?";
}

std::vector<int> checkpoint_segments(const Policy& policy, size_t n) {
  // seg[t] = segment id of top-level layer t, -1 when it is not checkpointed.
  std::vector<int> seg(n, -1);
  switch (policy.kind) {
    case Policy::Kind::none: break;
    case Policy::Kind::checkpoint:
      for (size_t i = 0; i < n; ++i) seg[i] = static_cast<int>(i);
      break;
    case Policy::Kind::full_recompute: std::fill(seg.begin(), seg.end(), 0); break;
    case Policy::Kind::checkpoint_sequential: {
      if (policy.segments < 1 || policy.segments > n)
        throw InputError("policy checkpoint_sequential: " + std::to_string(policy.segments) + " segments for " +
                         std::to_string(n) + " layers (need 1 to " + std::to_string(n) + ")");
      // torch.utils.checkpoint.checkpoint_sequential: segments of ⌊n/segments⌋ layers;
      // the first segments−1 are checkpointed, the rest (the last part) runs normally.
      const size_t size = n / policy.segments;
      for (size_t k = 0; k + 1 < policy.segments; ++k)
        for (size_t i = k * size; i < (k + 1) * size; ++i) seg[i] = static_cast<int>(k);
      break;
    }
  }
  return seg;
}

OpGraph build_step(const NetSpec& net, const Policy& policy) {
  OpGraph g;
  g.name = net.name;
  g.dtype = net.dtype;
  g.batch = net.batch;
  const std::vector<int> seg = checkpoint_segments(policy, net.layers.size());
  const NetPlan plan = plan_network(net);
  const size_t n = plan.nodes.size();
  StepEmitter e(net, plan, g);
  std::vector<NodeCtx> ctx(n);
  for (size_t i = 0; i < n; ++i) e.forward(i, Phase::forward, ctx);
  std::vector<uint32_t> grads(n, 0);
  const uint32_t out = plan.output < 0 ? e.input() : ctx[size_t(plan.output)].out;
  if (plan.output >= 0) grads[size_t(plan.output)] = e.loss_grad(out);
  for (size_t i = n; i-- > 0;) {
    const size_t t = plan.nodes[i].top;
    if (seg[t] >= 0 && i == size_t(plan.top_last[t]) && (t + 1 == seg.size() || seg[t + 1] != seg[t])) {
      // Entering a checkpointed segment from its end: re-run its forward from the saved
      // segment input, so its backward reads recomputed tensors.
      size_t first_top = t;
      while (first_top > 0 && seg[first_top - 1] == seg[t]) --first_top;
      const size_t first = first_top == 0 ? 0 : size_t(plan.top_last[first_top - 1]) + 1;
      for (size_t j = first; j <= i; ++j) e.forward(j, Phase::recompute, ctx);
    }
    if (grads[i] && plan.nodes[i].needs_grad) e.backward(i, ctx[i], grads[i], grads);
  }
  e.update();
  g.memory.policy = policy.name();
  account_memory(g);
  return g;
}

void account_memory(OpGraph& g) {
  const size_t nt = g.tensors.size();
  std::vector<int64_t> first(nt, -1), last(nt, -1);
  for (const Op& o : g.ops) {
    for (uint32_t t : o.writes)
      if (first[t] < 0) first[t] = o.id;
    for (uint32_t t : o.reads) last[t] = o.id;
  }
  auto counted = [&](uint32_t t) {
    const TensorRole r = g.tensors[t].role;
    return r != TensorRole::weight && r != TensorRole::input && r != TensorRole::optimizer_state && first[t] >= 0;
  };
  // Frees happen after each op; a tensor nobody reads dies right after the op that wrote it.
  std::vector<std::vector<uint32_t>> alloc_at(g.ops.size()), free_at(g.ops.size());
  for (uint32_t t = 0; t < nt; ++t) {
    if (!counted(t)) continue;
    alloc_at[size_t(first[t])].push_back(t);
    if (g.tensors[t].role == TensorRole::weight_gradient) continue;  // .grad lives to the end
    free_at[size_t(std::max(first[t], last[t]))].push_back(t);
  }
  int64_t last_forward = -1;
  for (const Op& o : g.ops)
    if (o.phase == Phase::forward) last_forward = o.id;
  uint64_t live = 0, peak = 0;
  for (const Op& o : g.ops) {
    for (uint32_t t : alloc_at[o.id]) live += g.tensors[t].bytes;
    peak = std::max(peak, live);
    for (uint32_t t : free_at[o.id]) live -= g.tensors[t].bytes;
    if (int64_t(o.id) == last_forward) g.memory.saved_after_forward_bytes = live;
  }
  g.memory.peak_bytes = peak;
}

}  // namespace bpsim::workload
