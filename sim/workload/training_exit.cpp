// Early exit in training: exit heads spliced into the step, the trunk shrunk to the samples
// that stay past each exit.
#include "sim/workload/training_exit.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "sim/workload/builder.h"
#include "sim/workload/plan.h"
#include "sim/workload/policy_rewrites.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

const config::Binder<EarlyExit>& early_exit_binder() {
  static const auto b = [] {
    config::Binder<EarlyExit> e("early_exit",
                                "exit heads after chosen layers; samples that leave skip the later layers' work");
    e.list("after", &EarlyExit::after, "top-level layers or modules, in forward order, each followed by an exit head");
    e.list("fraction", &EarlyExit::fraction,
           "share of the batch leaving at each exit (one per exit); absent: drawn from per-sample confidences");
    e.integer("classes", &EarlyExit::classes, "", "outputs of each exit head (0: the network output's last dimension)")
        .def(0);
    e.real("threshold", &EarlyExit::threshold, "",
           "without fraction: a sample reaching an exit leaves when its confidence there is at least this")
        .def("0.9")
        .range(0, 1);
    e.real("beta_a", &EarlyExit::beta_a, "", "without fraction: confidence at each exit ~ Beta(beta_a, beta_b)")
        .def(8.0)
        .positive();
    e.real("beta_b", &EarlyExit::beta_b, "", "see beta_a").def(2.0).positive();
    return e;
  }();
  return b;
}

namespace {

[[noreturn]] void fail(const EarlyExit& e, const std::string& key, const std::string& msg) {
  throw InputError(e.where, "training.early_exit" + (key.empty() ? "" : "." + key), msg);
}

/// The top-level layer an exit follows: the last layer of the module (at any depth) or the
/// top-level layer named `name`; npos when none has that name.
size_t exit_layer(const NetSpec& net, const std::string& name) {
  std::vector<ModuleSpec> todo = module_tree(net);
  while (!todo.empty()) {
    ModuleSpec m = std::move(todo.back());
    todo.pop_back();
    if (m.name == name && m.end > m.first) return m.end - 1;
    for (ModuleSpec& c : m.children) todo.push_back(std::move(c));
  }
  for (size_t t = 0; t < net.layers.size(); ++t)
    if (net.layers[t].name == name) return t;
  return std::string::npos;
}

/// The head's layers on an input of per-sample `shape`: [C, H, W] maps are pooled globally
/// and flattened; vectors and [tokens, features] go straight to the linear classifier.
std::vector<LayerSpec> head_layers(const EarlyExit& e, size_t s, const Shape& shape, uint64_t classes) {
  const std::string pre = fmt::format("exit{}.", s);
  auto layer = [&](const std::string& kind, const std::string& name) {
    LayerSpec l;
    l.kind = kind;
    l.name = pre + name;
    l.loc = e.where;
    return l;
  };
  std::vector<LayerSpec> out;
  if (shape.size() == 3) {
    out.push_back(layer("avgpool", "pool"));
    out.back().global = true;
    out.push_back(layer("flatten", "flatten"));
  } else if (shape.size() != 1 && shape.size() != 2) {
    fail(e, "after",
         fmt::format("exit {} reads an output of shape {}; a head takes [features], [tokens, features] or "
                     "[channels, height, width]",
                     s, shape_str(shape)));
  }
  out.push_back(layer("linear", "fc"));
  out.back().out_features = classes;
  return out;
}

/// The samples leaving at each exit (given shares of the batch, or drawn), leaving at least
/// one sample for the layers after the last exit.
std::vector<uint64_t> leaving(const EarlyExit& e, uint64_t batch) {
  std::vector<uint64_t> out;
  uint64_t left = batch;
  for (size_t s = 0; s < e.after.size(); ++s) {
    uint64_t k = 0;
    if (!e.fraction.empty()) {
      const double f = e.fraction[s];
      if (!(f >= 0 && f <= 1)) fail(e, "fraction", fmt::format("each share must be in [0, 1] (got {:g})", f));
      k = uint64_t(std::llround(f * double(batch)));
      if (k >= left)
        fail(e, "fraction",
             fmt::format("the shares leave no sample for the layers after exit {} (batch {})", s, batch));
    } else {
      ConfidenceSkip c;
      c.beta_a = e.beta_a;
      c.beta_b = e.beta_b;
      c.seed = e.seed + s;  // one draw per exit, each of the samples that reach it
      for (double x : sample_confidences(c, left)) k += x >= e.threshold ? 1 : 0;
      k = std::min(k, left - 1);
    }
    out.push_back(k);
    left -= k;
  }
  return out;
}

/// Rows of the trunk: the forward, recompute and backward ops of the nodes after an exit
/// (and the final loss) run for the samples that reach them; the tensors they write hold
/// those samples only. The update is untouched: every weight still gets its gradient.
double shrink_trunk(OpGraph& g, const std::vector<int>& op_node, const std::vector<uint64_t>& node_rows,
                    uint64_t final_rows) {
  std::vector<uint64_t> tensor_rows(g.tensors.size(), g.batch);
  double macs = 0, flops = 0;  // flops: shrink_op_samples's count, not reported
  for (size_t i = 0; i < g.ops.size(); ++i) {
    Op& o = g.ops[i];
    if (o.phase == Phase::update) continue;
    const uint64_t rows = op_node[i] >= 0 ? node_rows[size_t(op_node[i])] : final_rows;
    if (rows == g.batch) continue;
    shrink_op_samples(o, rows, g.batch, macs, flops);
    for (uint32_t t : o.writes) {
      const TensorRole r = g.tensors[t].role;
      const bool per_sample = r == TensorRole::activation || r == TensorRole::saved || r == TensorRole::gradient ||
                              r == TensorRole::workspace || r == TensorRole::mask;
      // A reduction's output is a sum over the samples (the loss value), not one row each.
      if (per_sample && (o.kind != OpKind::reduction || r == TensorRole::gradient))
        tensor_rows[t] = std::min(tensor_rows[t], rows);
    }
  }
  for (Tensor& t : g.tensors) t.bytes = t.bytes * tensor_rows[t.id] / g.batch;
  return macs;
}

/// One head's ops, taken from a step of the network up to the exit plus the head, built for
/// the samples that reach it; tensors of the trunk are those of `g` (by name), the head's
/// own are appended to `g`.
struct HeadOps {
  std::vector<Op> forward, backward, update;
  uint32_t dx = 0;  ///< the head's gradient of the trunk output (0: the trunk needs none)
  double macs = 0;
};

HeadOps head_ops(OpGraph& g, const NetSpec& net, size_t top, size_t exit_node, size_t s, uint64_t rows,
                 const std::vector<LayerSpec>& head) {
  NetSpec p = net;
  p.layers.assign(net.layers.begin(), net.layers.begin() + std::ptrdiff_t(top + 1));
  p.layers.insert(p.layers.end(), head.begin(), head.end());
  p.modules.clear();
  p.training = TrainingSpec{};
  p.batch = rows;
  const NetPlan plan = plan_network(p);
  std::vector<int> op_node;
  std::vector<BackwardEntry> entries;
  const OpGraph h = build_with_segments(p, plan, std::vector<int>(plan.nodes.size(), -1), &op_node, &entries);

  const std::string pre = fmt::format("exit{}.", s);
  auto own = [&](const std::string& name) { return name.rfind(pre, 0) == 0; };
  std::vector<bool> is_head(h.ops.size(), false), head_written(h.tensors.size(), false);
  for (size_t i = 0; i < h.ops.size(); ++i) {
    is_head[i] = own(h.ops[i].layer) || h.ops[i].layer == "loss";
    if (is_head[i])
      for (uint32_t t : h.ops[i].writes) head_written[t] = true;
  }
  std::map<std::string, uint32_t> trunk;
  for (const Tensor& t : g.tensors) trunk.emplace(t.name, t.id);
  std::map<uint32_t, uint32_t> id;  // head graph's tensor → g's
  auto map = [&](uint32_t t) {
    if (auto it = id.find(t); it != id.end()) return it->second;
    const Tensor& x = h.tensors[t];
    const bool new_tensor = head_written[t] || own(x.name) || x.name.rfind("loss", 0) == 0;
    if (!new_tensor) {
      const auto it = trunk.find(x.name);
      if (it == trunk.end()) throw std::logic_error("early exit: head reads " + x.name + ", not in the step");
      return id[t] = it->second;
    }
    Tensor n = x;
    n.id = uint32_t(g.tensors.size());
    if (!own(n.name)) n.name = pre + n.name;
    g.tensors.push_back(n);
    return id[t] = n.id;
  };
  HeadOps out;
  for (size_t i = 0; i < h.ops.size(); ++i) {
    if (!is_head[i]) continue;
    Op o = h.ops[i];
    if (!own(o.layer)) {
      o.name = pre + o.name;
      o.layer = pre + o.layer;
    }
    for (auto* v : {&o.reads, &o.writes, &o.holds})
      for (uint32_t& t : *v) t = map(t);
    out.macs += double(o.macs);
    (o.phase == Phase::forward ? out.forward : o.phase == Phase::update ? out.update : out.backward).push_back(o);
  }
  if (const uint32_t dx = entries[exit_node].dy) out.dx = map(dx);
  return out;
}

}  // namespace

void splice_training_ops(OpGraph& g, std::vector<std::vector<Op>> before, std::vector<std::vector<Op>> after,
                         std::vector<int>& op_node, std::vector<BackwardEntry>& entries) {
  std::vector<int> node;
  std::vector<size_t> moved(g.ops.size());
  for (size_t k = 0; k < g.ops.size(); ++k) {
    node.insert(node.end(), before[k].size(), -1);
    moved[k] = node.size();
    node.push_back(op_node[k]);
    node.insert(node.end(), after[k].size(), -1);
  }
  for (BackwardEntry& b : entries) b.op = b.op < moved.size() ? moved[b.op] : node.size();
  splice_ops(g, std::move(before), std::move(after));
  op_node = std::move(node);
}

void apply_early_exit(OpGraph& g, const NetSpec& net, const NetPlan& plan, std::vector<int>& op_node,
                      std::vector<BackwardEntry>& entries) {
  const EarlyExit& e = net.training.early_exit;
  if (net.framework != Framework::none)
    fail(e, "", "not modelled with framework: pytorch_cuda (the heads' library buffers); use framework: none");
  if (!e.fraction.empty() && e.fraction.size() != e.after.size())
    fail(e, "fraction",
         fmt::format("give one share per exit ({} exits, {} shares)", e.after.size(), e.fraction.size()));
  if (plan.output < 0) fail(e, "", "the network has no output for the heads to copy");
  const uint64_t classes = e.classes ? e.classes : plan.nodes[size_t(plan.output)].out_shape.back();

  std::vector<size_t> tops;
  for (const std::string& name : e.after) {
    const size_t t = exit_layer(net, name);
    if (t == std::string::npos) fail(e, "after", "no top-level layer or module is named '" + name + "'");
    if (t + 1 >= net.layers.size())
      fail(e, "after", "'" + name + "' ends the network: an exit there is the network's own output");
    if (!tops.empty() && t <= tops.back())
      fail(e, "after", "'" + name + "' does not come after the previous exit: give the exits in forward order");
    tops.push_back(t);
  }
  const std::vector<uint64_t> out = leaving(e, g.batch);
  std::vector<uint64_t> reach(tops.size() + 1, g.batch);  // samples reaching exit s; last: the network's end
  for (size_t s = 0; s < tops.size(); ++s) reach[s + 1] = reach[s] - out[s];
  std::vector<uint64_t> node_rows(plan.nodes.size(), g.batch);
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    size_t s = 0;
    while (s < tops.size() && size_t(plan.top_last[tops[s]]) < i) ++s;
    node_rows[i] = reach[s];
  }
  const double saved = shrink_trunk(g, op_node, node_rows, reach.back());

  std::vector<std::vector<Op>> before(g.ops.size()), after(g.ops.size());
  double head_macs = 0;
  for (size_t s = 0; s < tops.size(); ++s) {
    const auto x = size_t(plan.top_last[tops[s]]);
    const Node& n = plan.nodes[x];
    HeadOps h = head_ops(g, net, tops[s], x, s, reach[s], head_layers(e, s, n.out_shape, classes));
    head_macs += h.macs;
    size_t fwd = 0;  // the exit node's last forward op
    for (size_t i = 0; i < g.ops.size(); ++i)
      if (op_node[i] == int(x) && g.ops[i].phase == Phase::forward) fwd = i;
    const uint32_t dy = entries[x].dy;
    if (dy && h.dx) {
      // Joint training: the head's input gradient is added into the trunk's (in place, as
      // autograd accumulates it); the trunk gradient holds a row per sample reaching the exit.
      const uint64_t per_sample = product(n.out_shape);
      g.tensors[dy].bytes = g.tensors[h.dx].bytes;
      Op add;
      add.name = fmt::format("exit{}.grad_add", s);
      add.layer = fmt::format("exit{}", s);
      add.phase = Phase::backward_data;
      add.kind = OpKind::elementwise;
      add.detail = "add";
      add.dtype = g.dtype;
      add.reads = {dy, h.dx};
      add.writes = {dy};
      add.elements = reach[s] * per_sample;
      add.flops = reach[s + 1] * per_sample;  // the leaving samples' rows are the head's gradient alone
      h.backward.push_back(add);
    }
    for (Op& o : h.forward) after[fwd].push_back(o);
    for (Op& o : h.backward) before[entries[x].op].push_back(o);
    for (Op& o : h.update) after[g.ops.size() - 1].push_back(o);
    g.memory.figures[fmt::format("exit{}_samples", s)] = double(out[s]);
  }
  splice_training_ops(g, std::move(before), std::move(after), op_node, entries);
  g.memory.figures["exit_heads"] = double(tops.size());
  g.memory.figures["exit_final_samples"] = double(reach.back());
  g.memory.figures["exit_trunk_macs_saved"] = saved;
  g.memory.figures["exit_head_macs"] = head_macs;
}

}  // namespace bpsim::workload
