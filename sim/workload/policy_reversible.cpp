// reversible: residual blocks as RevNet couplings, their inputs rebuilt from their outputs.
#include <algorithm>
#include <set>

#include "sim/workload/builder.h"
#include "sim/workload/policy.h"
#include "sim/workload/policy_rewrites.h"

namespace bpsim::workload {

std::vector<bool> reversible_blocks(const NetPlan& plan) {
  const size_t tops = plan.top_last.size();
  std::vector<bool> ok(tops, false);
  for (size_t t = 1; t < tops; ++t) {
    const int last = plan.top_last[t], prev = plan.top_last[t - 1];
    if (last < 0 || prev < 0 || last == prev) continue;
    // An addition ends the block, or a ReLU right after one (torchvision's ResNet blocks):
    // RevNet moves that ReLU into the residual functions, which is what is modelled.
    const Node& end = plan.nodes[size_t(last)];
    const bool add_end =
        end.kind == "add" || (end.kind == "relu" && end.in[0] >= 0 && plan.nodes[size_t(end.in[0])].kind == "add");
    if (!add_end || end.out_shape != plan.nodes[size_t(prev)].out_shape) continue;
    if (plan.nodes[size_t(prev)].kind == "flatten") continue;  // a view: no tensor of its own
    // Every node of the block reads the block's input or a node of the block: a chain of
    // residuals with identity shortcuts, the shape kept.
    bool closed = true;
    for (size_t i = size_t(prev) + 1; i <= size_t(last); ++i)
      for (int in : plan.nodes[i].in) closed = closed && (in == prev || (in > prev && in <= last));
    ok[t] = closed;
  }
  return ok;
}

void apply_reversible(OpGraph& g, const NetPlan& plan, const std::vector<int>& op_node, const std::vector<bool>& rev) {
  const size_t tops = plan.top_last.size();
  auto top_of = [&](int node) { return node < 0 ? tops : plan.nodes[size_t(node)].top; };
  // Each top-level layer's output: the first tensor its last forward op writes.
  std::vector<int64_t> out(tops, -1);
  for (const Op& o : g.ops)
    if (o.phase == Phase::forward && op_node[o.id] >= 0 && !o.writes.empty()) out[top_of(op_node[o.id])] = o.writes[0];
  std::vector<std::vector<Op>> before(g.ops.size()), after(g.ops.size());
  int64_t rebuilt_next = -1;  // the rebuilt input of the block after this one, when it is reversible
  double blocks = 0, flops = 0;
  for (size_t t = tops; t-- > 1;) {
    if (!rev[t] || out[t] < 0 || out[t - 1] < 0) {
      rebuilt_next = -1;
      continue;
    }
    const uint32_t x = uint32_t(out[t - 1]);
    // y: this block's output as backward has it: rebuilt by the next block's inverse, or
    // the forward copy the next layer keeps.
    const uint32_t y = rebuilt_next >= 0 ? uint32_t(rebuilt_next) : uint32_t(out[t]);
    auto in_block = [&](const Op& o) {
      return o.phase != Phase::forward && op_node[o.id] >= 0 && top_of(op_node[o.id]) == t;
    };
    size_t first = g.ops.size();
    for (const Op& o : g.ops)
      if (in_block(o) && o.phase == Phase::recompute) first = std::min<size_t>(first, o.id);
    if (first == g.ops.size()) {  // nothing re-run (no gradient flows through it)
      rebuilt_next = -1;
      continue;
    }
    const uint32_t xr = static_cast<uint32_t>(g.tensors.size());
    g.tensors.push_back(Tensor{xr, g.tensors[x].name + ".rebuilt", g.tensors[x].bytes, TensorRole::activation});
    for (Op& o : g.ops)
      if (in_block(o))
        for (uint32_t& r : o.reads)
          if (r == x) r = xr;
    // x2 = y2 − G(y1), x1 = y1 − F(x2): two subtractions over half the channels each; the
    // F and G evaluations are the block's own forward ops, re-run in the recompute phase.
    Op inv;
    inv.name = plan.nodes[size_t(plan.top_last[t])].l->name + ".inverse";
    inv.layer = plan.nodes[size_t(plan.top_last[t])].l->name;
    inv.phase = Phase::recompute;
    inv.kind = OpKind::elementwise;
    inv.detail = "reversible_inverse";
    inv.dtype = g.dtype;
    inv.elements = g.tensors[x].bytes * 8 / dtype_bits(g.dtype);
    inv.flops = inv.elements;
    inv.reads = {y};
    inv.writes = {xr};
    flops += double(inv.flops);
    before[first].push_back(std::move(inv));
    rebuilt_next = xr;
    ++blocks;
  }
  splice_ops(g, std::move(before), std::move(after));
  g.memory.figures["reversible_blocks"] = blocks;
  g.memory.figures["inverse_flops"] = flops;
}

namespace {

/// Each reversible block re-runs as a segment of its own, its input rebuilt by inverse ops.
class Reversible : public Policy {
 public:
  std::string name() const override { return "reversible"; }
  std::vector<int> plan(const NetSpec&, const NetPlan& plan) const override {
    const std::vector<bool> rev = reversible_blocks(plan);
    std::vector<int> seg(plan.nodes.size(), -1);
    for (size_t i = 0; i < plan.nodes.size(); ++i) seg[i] = rev[plan.nodes[i].top] ? int(plan.nodes[i].top) : -1;
    return seg;
  }
  void apply(OpGraph& g, const NetPlan& plan, const std::vector<int>& op_node) const override {
    apply_reversible(g, plan, op_node, reversible_blocks(plan));
  }
};

}  // namespace

void register_reversible_policies(std::vector<PolicyRegistry::Entry>& out) {
  out.push_back(
      entry<Reversible>("reversible", "residual blocks as RevNet couplings: their inputs rebuilt from their outputs"));
}

}  // namespace bpsim::workload
