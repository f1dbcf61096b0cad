// Distillation with a cluster-quantised student: the teacher's forward, the soft-target KL
// term and the codebook decode and per-cluster gradient ops spliced into the student's step.
#include "sim/workload/training_distill.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "sim/core/data_dir.h"
#include "sim/workload/builder.h"
#include "sim/workload/plan.h"
#include "sim/workload/policy_rewrites.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

const config::Binder<Distill>& distill_binder() {
  static const auto b = [] {
    config::Binder<Distill> d("distill", "a teacher's forward and soft-target loss; optionally a clustered student");
    d.string("teacher", &Distill::teacher, "the teacher's network spec file (relative to where it is written); needed");
    d.real("temperature", &Distill::temperature, "", "softmax temperature of the soft targets").def(4.0).positive();
    d.integer("clusters", &Distill::clusters, "",
              "shared values per student linear/conv2d weight, stored as log2(K)-bit indices + a codebook (0: dense)")
        .def(0)
        .range(0, 65536);
    return d;
  }();
  return b;
}

void load_teacher(Distill& d, const config::Node& node) {
  const config::Node* t = node.find("teacher");
  if (!t) throw InputError(node.loc, "training.distill.teacher", "missing required key 'teacher' (the teacher's spec)");
  const std::string path = config::resolve_config_path(*t);
  config::check_yaml_file(*t, "training.distill.teacher", path);
  auto net = std::make_shared<NetSpec>(parse_net_spec(config::load_file(path)));
  if (net->training.distill.on())
    throw InputError(t->loc, "training.distill.teacher", "the teacher '" + path + "' distils from a teacher itself");
  d.teacher_path = path;
  d.teacher_net = std::move(net);
}

namespace {

[[noreturn]] void fail(const Distill& d, const std::string& key, const std::string& msg) {
  throw InputError(d.where, "training.distill" + (key.empty() ? "" : "." + key), msg);
}

/// The tensor the last forward op of plan node `node` wrote (the node's output).
uint32_t output_of(const OpGraph& g, const std::vector<int>& op_node, int node) {
  uint32_t out = 0;
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (op_node[i] == node && g.ops[i].phase == Phase::forward && !g.ops[i].writes.empty())
      out = g.ops[i].writes.front();
  return out;
}

Op make_op(const std::string& name, Phase ph, OpKind kind, const std::string& detail, DType dtype,
           std::vector<uint32_t> reads, std::vector<uint32_t> writes, uint64_t elements, uint64_t flops) {
  Op o;
  o.name = name;
  o.layer = name.substr(0, name.rfind('.'));
  o.phase = ph;
  o.kind = kind;
  o.detail = detail;
  o.dtype = dtype;
  o.reads = std::move(reads);
  o.writes = std::move(writes);
  o.elements = elements;
  o.flops = flops;
  return o;
}

/// The teacher's forward ops (its loss left out), reading the student's input; returns its
/// logits in `g` and appends the ops to `out`.
uint32_t teacher_forward(OpGraph& g, const NetSpec& net, const Shape& out_shape, const Distill& d, std::vector<Op>& out,
                         double& macs, double& weight_bytes) {
  NetSpec t = *d.teacher_net;
  if (t.input_shape != net.input_shape)
    fail(d, "teacher",
         fmt::format("the teacher '{}' reads inputs of shape {}, the student {}", t.name, shape_str(t.input_shape),
                     shape_str(net.input_shape)));
  t.batch = net.batch;
  t.dtype = net.dtype;  // the same accelerator runs it, in the student's dtype
  t.autocast = Autocast::none;
  t.loss_scale = false;
  t.master_weights = false;
  t.loss = Loss::none;
  t.framework = Framework::none;
  t.allocator = Allocator::none;
  const NetPlan plan = plan_network(t);
  if (plan.output < 0 || plan.nodes[size_t(plan.output)].out_shape != out_shape)
    fail(d, "teacher",
         fmt::format("the teacher '{}' gives outputs of shape {} per sample, the student {}: give both the same",
                     t.name, plan.output < 0 ? "[]" : shape_str(plan.nodes[size_t(plan.output)].out_shape),
                     shape_str(out_shape)));
  std::vector<int> node;
  const OpGraph h = build_with_segments(t, plan, std::vector<int>(plan.nodes.size(), -1), &node);
  std::map<uint32_t, uint32_t> id;
  auto map = [&](uint32_t x) {
    if (auto it = id.find(x); it != id.end()) return it->second;
    const Tensor& s = h.tensors[x];
    if (s.role == TensorRole::input) return id[x] = 0;  // the student's input (tensor 0)
    // Nothing of a no-grad forward is kept for a backward: its tensors are plain activations.
    const TensorRole r = s.role == TensorRole::weight ? TensorRole::weight : TensorRole::activation;
    if (r == TensorRole::weight) weight_bytes += double(s.bytes);
    const uint32_t n = add_tensor(g, "teacher." + s.name, s.bytes, r);
    g.tensors[n].bits = s.bits;
    return id[x] = n;
  };
  uint32_t logits = 0;
  for (size_t i = 0; i < h.ops.size(); ++i) {
    if (h.ops[i].phase != Phase::forward || node[i] < 0) continue;
    Op o = h.ops[i];
    o.name = "teacher." + o.name;
    o.layer = "teacher." + o.layer;
    o.holds.clear();
    for (auto* v : {&o.reads, &o.writes})
      for (uint32_t& x : *v) x = map(x);
    if (node[i] == plan.output && !o.writes.empty()) logits = o.writes.front();
    macs += double(o.macs);
    out.push_back(o);
  }
  return logits;
}

}  // namespace

void apply_distill(OpGraph& g, const NetSpec& net, const NetPlan& plan, std::vector<int>& op_node,
                   std::vector<BackwardEntry>& entries) {
  const Distill& d = net.training.distill;
  if (net.loss == Loss::none)
    fail(d, "", "the student needs its hard-label loss (loss: cross_entropy) beside the soft-target term");
  if (net.framework != Framework::none)
    fail(d, "", "not modelled with framework: pytorch_cuda (the teacher's library buffers); use framework: none");
  if (d.clusters && (net.autocast != Autocast::none || net.master_weights))
    fail(d, "clusters", "a clustered student under autocast or with master weights is not modelled");
  if (d.clusters == 1) fail(d, "clusters", "one cluster leaves no weight to learn: give at least 2 (or 0: dense)");
  if (plan.output < 0 || g.tensors.empty() || g.tensors[0].role != TensorRole::input)
    fail(d, "", "the student has no input and output for a teacher to match");
  const uint64_t elem = std::max(1u, dtype_bits(g.dtype) / 8);
  std::vector<std::vector<Op>> before(g.ops.size()), after(g.ops.size());

  // Teacher first (torch.no_grad(): its activations are freed as soon as read), its soft
  // targets softmax(t / T) kept for the loss.
  double teacher_macs = 0, teacher_weights = 0;
  std::vector<Op>& head = before[0];
  const Shape& out_shape = plan.nodes[size_t(plan.output)].out_shape;
  const uint32_t t_logits = teacher_forward(g, net, out_shape, d, head, teacher_macs, teacher_weights);
  const uint32_t s_logits = output_of(g, op_node, plan.output);
  const uint64_t n = g.batch * product(out_shape);  // logits: rows × classes
  const uint32_t p_t = add_tensor(g, "distill.teacher_soft", n * elem, TensorRole::activation);
  head.push_back(make_op("distill.teacher_soft", Phase::forward, OpKind::softmax, "softmax", g.dtype, {t_logits}, {p_t},
                         n, n * 5));

  // The soft-target term after the student's loss: log_softmax(s / T) (kept for its
  // backward), T²·KL(p_t ‖ q) summed over the rows.
  size_t last_fwd = 0;
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].phase == Phase::forward) last_fwd = i;
  const uint32_t log_q = add_tensor(g, "distill.student_log_soft", n * elem, TensorRole::saved);
  const uint32_t kl = add_tensor(g, "distill.kl", elem, TensorRole::activation);
  after[last_fwd].push_back(make_op("distill.student_log_soft", Phase::forward, OpKind::softmax, "log_softmax", g.dtype,
                                    {s_logits}, {log_q}, n, n * 5));
  // p·(log p − log q) per element, summed, times T²: log, subtract, multiply, add.
  after[last_fwd].push_back(
      make_op("distill.kl", Phase::forward, OpKind::reduction, "kl_div", g.dtype, {p_t, log_q}, {kl}, 1, n * 4));
  // Its gradient, T·(q − p_t), added in place into the hard loss's gradient of the logits.
  const BackwardEntry out = entries[size_t(plan.output)];
  const uint32_t dkl = add_tensor(g, "distill.kl_grad", n * elem, TensorRole::gradient);
  before[out.op].push_back(make_op("distill.kl_bwd", Phase::backward_data, OpKind::elementwise, "kl_div_backward",
                                   g.dtype, {kl, log_q, p_t}, {dkl}, n, n * 3));
  before[out.op].push_back(make_op("distill.grad_add", Phase::backward_data, OpKind::elementwise, "add", g.dtype,
                                   {out.dy, dkl}, {out.dy}, n, n));

  // Clustered student: each linear/conv2d weight becomes ⌈log2 K⌉-bit indices plus a
  // K-entry codebook; every GEMM that reads it reads a decoded copy (a gather per weight),
  // its dense gradient is summed per cluster (a scatter-add) and the optimizer updates the
  // codebook (K values, K optimizer states) instead of the weights.
  double dense = 0, stored = 0, decoded = 0;
  unsigned bits = 0;
  while ((uint64_t(1) << bits) < d.clusters) ++bits;
  size_t clustered = 0;
  if (d.clusters) {
    std::map<std::string, uint32_t> by_name;
    for (const Tensor& t : g.tensors) by_name.emplace(t.name, t.id);
    for (const Node& node : plan.nodes) {
      if ((node.kind != "linear" && node.kind != "conv2d") || node.tied >= 0) continue;
      const auto w = by_name.find(node.l->name + ".weight"), wg = by_name.find(node.l->name + ".weight.grad");
      if (w == by_name.end() || wg == by_name.end()) continue;
      const uint32_t idx = w->second;
      const uint64_t weights = g.tensors[idx].bytes / elem;
      if (weights <= d.clusters) continue;  // no fewer values to store than weights
      ++clustered;
      const std::string& name = g.tensors[idx].name;
      const uint32_t book = add_tensor(g, name + ".codebook", d.clusters * elem, TensorRole::weight);
      const uint32_t book_grad = add_tensor(g, name + ".codebook.grad", d.clusters * elem, TensorRole::weight_gradient);
      dense += double(g.tensors[idx].bytes);
      g.tensors[idx].bytes = (weights * bits + 7) / 8;
      g.tensors[idx].bits = bits;
      stored += double(g.tensors[idx].bytes + d.clusters * elem);
      size_t copies = 0;
      for (size_t k = 0; k < g.ops.size(); ++k) {
        Op& o = g.ops[k];
        if (o.phase == Phase::update) {
          if (o.writes.empty() || o.writes.front() != idx) continue;
          // The optimizer step on the codebook: K values and their states.
          for (auto* v : {&o.reads, &o.writes})
            for (uint32_t& x : *v) {
              if (x == idx) x = book;
              else if (x == wg->second) x = book_grad;
              else if (g.tensors[x].role == TensorRole::optimizer_state && x != book)
                g.tensors[x].bytes = g.tensors[x].bytes / weights * d.clusters;
            }
          o.name = name + ".codebook.update";
          o.flops = o.flops / o.elements * d.clusters;
          o.elements = d.clusters;
          continue;
        }
        if (std::find(o.writes.begin(), o.writes.end(), wg->second) != o.writes.end()) {
          after[k].push_back(make_op(name + ".cluster_grad", o.phase, OpKind::reduction, "cluster_scatter_add", g.dtype,
                                     {wg->second, idx}, {book_grad}, d.clusters, weights));
          continue;
        }
        if (std::find(o.reads.begin(), o.reads.end(), idx) == o.reads.end()) continue;
        const uint32_t w_dense =
            add_tensor(g, fmt::format("{}.decoded{}", name, copies++), weights * elem, TensorRole::workspace);
        before[k].push_back(make_op(
            name + ".decode" + (o.phase == Phase::forward ? "" : "_" + std::string(to_string(o.phase))), o.phase,
            OpKind::elementwise, "codebook_decode", g.dtype, {idx, book}, {w_dense}, weights, weights));
        decoded += double(weights);
        for (uint32_t& x : o.reads)
          if (x == idx) x = w_dense;
      }
    }
  }

  splice_training_ops(g, std::move(before), std::move(after), op_node, entries);
  g.memory.figures["distill_teacher_macs"] = teacher_macs;
  g.memory.figures["distill_teacher_weight_bytes"] = teacher_weights;
  g.memory.figures["distill_temperature"] = d.temperature;
  if (d.clusters) {
    g.memory.figures["distill_clustered_weights"] = double(clustered);
    g.memory.figures["distill_index_bits"] = double(bits);
    g.memory.figures["distill_dense_weight_bytes"] = dense;
    g.memory.figures["distill_stored_weight_bytes"] = stored;
    g.memory.figures["distill_decoded_weights"] = decoded;
  }
}

}  // namespace bpsim::workload
