#include "sim/workload/builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "sim/core/error.h"
#include "sim/workload/caching_allocator.h"
#include "sim/workload/emit.h"
#include "sim/workload/framework.h"
#include "sim/workload/plan.h"
#include "sim/workload/training_block.h"
#include "sim/workload/training_feedback.h"

namespace bpsim::workload {

OpGraph build_step(const NetSpec& net, const Policy& policy) {
  check_framework_policy(net, policy.name());
  const NetPlan plan = plan_network(net);
  check_feedback(net.training.feedback, plan);
  check_newton(net.training.newton, plan);
  if (net.training.learner.kind == LearnerKind::enkf) {  // no backward: its own step (training_learner.h)
    OpGraph g = build_enkf_step(net, plan, policy.name());
    account_memory(g);
    return g;
  }
  std::vector<int> op_node;
  std::vector<BackwardEntry> entries;
  OpGraph g = build_with_segments(net, plan, policy.plan(net, plan), &op_node, &entries);
  if (net.training.early_exit.on()) apply_early_exit(g, net, plan, op_node, entries);
  if (net.training.distill.on()) apply_distill(g, net, plan, op_node, entries);
  policy.apply(g, plan, op_node);
  apply_precision(g, net, plan);  // after the policy's rewrites, which index ops by op_node
  g.memory.policy = policy.name();
  account_memory(g);
  feedback_figures(net.training.feedback, g);
  block_update_figures(net.training.block_update, net, plan, g);
  newton_figures(net.training.newton, g);
  apply_allocator(g, net);
  return g;
}

OpGraph build_with_segments(const NetSpec& net, const NetPlan& plan, const std::vector<int>& node_seg,
                            std::vector<int>* op_node, std::vector<BackwardEntry>* entries) {
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
  if (entries) entries->assign(n, {});
  const uint32_t out = plan.output < 0 ? e.input() : ctx[size_t(plan.output)].out;
  if (plan.output >= 0) e.loss_forward(out);  // forward phase: what it keeps counts as saved
  if (plan.output >= 0) e.set_output_error(grads[size_t(plan.output)] = e.loss_grad(out));
  mark(-1);
  for (size_t i = n; i-- > 0;) {
    const int s = node_seg[i];
    if (s >= 0 && (i + 1 == n || node_seg[i + 1] != s)) {
      // Entering a recomputed segment from its end: re-run its forward from the saved
      // segment input, so its backward reads recomputed tensors.
      size_t first = i;
      while (first > 0 && node_seg[first - 1] == s) --first;
      // Under block_update a segment below the block runs no backward: nothing to recompute.
      bool grad = net.training.block_update.blocks.empty();
      for (size_t j = first; j <= i && !grad; ++j) grad = plan.nodes[j].needs_grad;
      for (size_t j = first; j <= i && grad; ++j) {
        e.forward(j, Phase::recompute, ctx);
        mark(int(j));
      }
    }
    if (entries) (*entries)[i] = {grads[i], g.ops.size()};
    if (grads[i] && plan.nodes[i].needs_grad) e.backward(i, ctx[i], grads[i], grads);
    mark(int(i));
  }
  e.update();
  mark(-1);
  apply_framework(g, net);
  return g;
}

}  // namespace bpsim::workload
