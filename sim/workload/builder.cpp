#include "sim/workload/builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

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
    case Kind::threshold: return fmt::format("threshold({:g}, {})", threshold, cost.name());
    case Kind::evaluation: return fmt::format("evaluation({} B, {})", budget_bytes, cost.name());
    case Kind::optimal: return fmt::format("optimal({} B, {})", budget_bytes, cost.name());
    case Kind::confidence_skip: return fmt::format("confidence_skip({:g})", allowable_error);
    case Kind::reversible: return "reversible";
    case Kind::sparse_storage:
      return density < 0 ? fmt::format("sparse_storage(relu density, {}-bit offsets)", index_bits)
                         : fmt::format("sparse_storage({:g}, {}-bit offsets)", density, index_bits);
  }
  return "?";
}

namespace {
const char* const kPolicyNames[] = {"none",      "checkpoint", "checkpoint_sequential", "full_recompute",
                                    "threshold", "evaluation", "optimal",               "sparse_storage",
                                    "confidence_skip", "reversible"};
}

bool policy_kind_from_string(const std::string& s, Policy::Kind& out) {
  for (size_t i = 0; i < std::size(kPolicyNames); ++i)
    if (s == kPolicyNames[i]) {
      out = static_cast<Policy::Kind>(i);
      return true;
    }
  return false;
}

std::vector<std::string> policy_kinds() { return {std::begin(kPolicyNames), std::end(kPolicyNames)}; }

std::string policy_kind_names() {
  std::string out;
  for (const char* n : kPolicyNames) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

std::vector<int> checkpoint_segments(const Policy& policy, size_t n) {
  // seg[t] = segment id of top-level layer t, -1 when it is not checkpointed.
  std::vector<int> seg(n, -1);
  switch (policy.kind) {
    case Policy::Kind::none:
    case Policy::Kind::threshold:
    case Policy::Kind::evaluation:
    case Policy::Kind::optimal:
    case Policy::Kind::sparse_storage:
    case Policy::Kind::confidence_skip:
    case Policy::Kind::reversible: break;  // node-level plans (plan_recompute), or none
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
  const std::vector<int> seg = checkpoint_segments(policy, net.layers.size());
  const NetPlan plan = plan_network(net);
  std::vector<int> node_seg(plan.nodes.size(), -1);
  const std::vector<bool> rev = policy.kind == Policy::Kind::reversible ? reversible_blocks(plan) : std::vector<bool>();
  if (policy.kind == Policy::Kind::threshold || policy.kind == Policy::Kind::evaluation ||
      policy.kind == Policy::Kind::optimal)
    node_seg = plan_recompute(net, plan, policy);
  else if (!rev.empty())  // each reversible block re-runs as a segment of its own
    for (size_t i = 0; i < plan.nodes.size(); ++i) node_seg[i] = rev[plan.nodes[i].top] ? int(plan.nodes[i].top) : -1;
  else
    for (size_t i = 0; i < plan.nodes.size(); ++i) node_seg[i] = seg[plan.nodes[i].top];
  std::vector<int> op_node;
  OpGraph g = build_with_segments(net, plan, node_seg, &op_node);
  if (!rev.empty()) apply_reversible(g, plan, op_node, rev);
  if (policy.kind == Policy::Kind::sparse_storage) apply_sparse_storage(g, plan, policy);
  if (policy.kind == Policy::Kind::confidence_skip) apply_confidence_skip(g, policy);
  g.memory.policy = policy.name();
  account_memory(g);
  return g;
}

OpGraph build_with_segments(const NetSpec& net, const NetPlan& plan, const std::vector<int>& node_seg,
                            std::vector<int>* op_node) {
  OpGraph g;
  g.name = net.name;
  g.dtype = net.dtype;
  g.batch = net.batch;
  const size_t n = plan.nodes.size();
  StepEmitter e(net, plan, g);
  std::vector<NodeCtx> ctx(n);
  auto mark = [&](int node) {
    if (op_node) op_node->resize(g.ops.size(), node);
  };
  for (size_t i = 0; i < n; ++i) {
    e.forward(i, Phase::forward, ctx);
    mark(int(i));
  }
  std::vector<uint32_t> grads(n, 0);
  const uint32_t out = plan.output < 0 ? e.input() : ctx[size_t(plan.output)].out;
  if (plan.output >= 0) grads[size_t(plan.output)] = e.loss_grad(out);
  mark(-1);
  for (size_t i = n; i-- > 0;) {
    const int s = node_seg[i];
    if (s >= 0 && (i + 1 == n || node_seg[i + 1] != s)) {
      // Entering a recomputed segment from its end: re-run its forward from the saved
      // segment input, so its backward reads recomputed tensors.
      size_t first = i;
      while (first > 0 && node_seg[first - 1] == s) --first;
      for (size_t j = first; j <= i; ++j) {
        e.forward(j, Phase::recompute, ctx);
        mark(int(j));
      }
    }
    if (grads[i] && plan.nodes[i].needs_grad) e.backward(i, ctx[i], grads[i], grads);
    mark(int(i));
  }
  e.update();
  mark(-1);
  return g;
}

LiveEvents live_events(const OpGraph& g) {
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
  LiveEvents ev{std::vector<std::vector<uint32_t>>(g.ops.size()), std::vector<std::vector<uint32_t>>(g.ops.size())};
  for (uint32_t t = 0; t < nt; ++t) {
    if (!counted(t)) continue;
    ev.alloc_before[size_t(first[t])].push_back(t);
    if (g.tensors[t].role == TensorRole::weight_gradient) continue;  // .grad lives to the end
    ev.free_after[size_t(std::max(first[t], last[t]))].push_back(t);
  }
  return ev;
}

namespace {

struct Liveness {
  std::vector<uint64_t> during;  ///< bytes live while each op runs
  uint64_t saved_after_forward = 0;
};

Liveness liveness(const OpGraph& g) {
  const LiveEvents ev = live_events(g);
  int64_t last_forward = -1;
  for (const Op& o : g.ops)
    if (o.phase == Phase::forward) last_forward = o.id;
  Liveness w;
  w.during.reserve(g.ops.size());
  uint64_t live = 0;
  for (const Op& o : g.ops) {
    for (uint32_t t : ev.alloc_before[o.id]) live = sum_or_throw("memory accounting: the bytes live at once", {live, g.tensors[t].bytes});
    w.during.push_back(live);
    for (uint32_t t : ev.free_after[o.id]) live -= g.tensors[t].bytes;
    if (int64_t(o.id) == last_forward) w.saved_after_forward = live;
  }
  return w;
}

}  // namespace

std::vector<uint64_t> memory_timeline(const OpGraph& g) { return liveness(g).during; }

void account_memory(OpGraph& g) {
  const Liveness w = liveness(g);
  g.memory.saved_after_forward_bytes = w.saved_after_forward;
  g.memory.peak_bytes = w.during.empty() ? 0 : *std::max_element(w.during.begin(), w.during.end());
}

}  // namespace bpsim::workload
