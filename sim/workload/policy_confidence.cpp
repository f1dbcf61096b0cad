// confidence_skip: samples the network already predicts confidently skip their backward, or
// (mode partial) run it for the last layers only.
#include <algorithm>
#include <functional>
#include <random>

#include <fmt/format.h>

#include "sim/workload/builder.h"
#include "sim/workload/policy.h"
#include "sim/workload/policy_rewrites.h"

namespace bpsim::workload {

size_t choose_skipped(std::vector<double> confidences, double allowable_error, double& threshold) {
  std::sort(confidences.begin(), confidences.end(), std::greater<double>());
  double total = 0;
  for (double c : confidences) total += 1.0 - c;
  const double allowed = allowable_error * total;
  double dropped = 0;
  size_t k = 0;
  while (k + 1 < confidences.size() && dropped + (1.0 - confidences[k]) <= allowed) dropped += 1.0 - confidences[k++];
  threshold = k ? confidences[k - 1] : 1.0;
  return k;
}

std::vector<double> sample_confidences(const ConfidenceSkip& policy, uint64_t batch) {
  std::mt19937_64 rng(policy.seed);
  std::vector<double> c(batch);
  if (!policy.histogram.empty()) {
    std::discrete_distribution<size_t> bin(policy.histogram.begin(), policy.histogram.end());
    std::uniform_real_distribution<double> within(0.0, 1.0);
    const double bins = double(policy.histogram.size());
    for (double& x : c) {
      const size_t b = bin(rng);
      x = (double(b) + within(rng)) / bins;
    }
    return c;
  }
  // Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
  std::gamma_distribution<double> ga(policy.beta_a, 1.0), gb(policy.beta_b, 1.0);
  for (double& x : c) {
    const double u = ga(rng), v = gb(rng);
    x = u + v > 0 ? u / (u + v) : 0.5;
  }
  return c;
}

void shrink_op_samples(Op& o, uint64_t kept, uint64_t batch, double& macs, double& flops) {
  auto sc = [&](uint64_t x) { return x * kept / batch; };
  const uint64_t m0 = o.macs, f0 = o.flops;
  const bool backward = o.phase == Phase::backward_data || o.phase == Phase::backward_weight;
  if (o.gemm.macs()) {
    if (o.gemm.batch > 1) o.gemm.batch = sc(o.gemm.batch);
    else if (o.phase == Phase::backward_weight) o.gemm.k = sc(o.gemm.k);
    else o.gemm.m = sc(o.gemm.m);
    if (o.conv.n) o.conv.n = sc(o.conv.n);
    o.macs = o.gemm.macs();
  } else {
    o.macs = sc(o.macs);
  }
  o.flops = sc(o.flops);
  if (!backward || o.kind != OpKind::reduction) o.elements = sc(o.elements);  // a bias gradient's outputs stay
  macs += double(m0 - o.macs);
  flops += double(f0 - o.flops);
}

void apply_sample_skip(OpGraph& g, uint64_t skipped, const std::vector<bool>& full) {
  const uint64_t b = g.batch, kept = b - std::min(skipped, b);
  std::vector<bool> keep_size(g.tensors.size(), false);
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].layer == "loss" ||
        (i < full.size() && full[i]))  // every sample's loss is computed: it gives the confidences
      for (uint32_t t : g.ops[i].writes) keep_size[t] = true;
  double macs = 0, flops = 0;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    Op& o = g.ops[i];
    const bool backward = o.phase == Phase::backward_data || o.phase == Phase::backward_weight;
    if (!backward || o.layer == "loss" || (i < full.size() && full[i])) continue;
    shrink_op_samples(o, kept, b, macs, flops);
  }
  for (Tensor& t : g.tensors)
    if (t.role == TensorRole::gradient && !keep_size[t.id]) t.bytes = t.bytes * kept / b;
  g.memory.figures["backward_macs_saved"] = macs;
  g.memory.figures["backward_flops_saved"] = flops;
}

/// Partial mode: the ops that still run for every sample. The first of the last `layers`
/// nodes with weights bounds the update: its weight gradient and every later node's backward
/// run for all samples; its input gradient (dX), which only the earlier layers read, and all
/// earlier backward work run for the kept samples alone.
std::vector<bool> partial_update_ops(const OpGraph& g, const NetPlan& plan, const std::vector<int>& op_node,
                                     uint64_t layers) {
  int first = int(plan.nodes.size());
  for (size_t i = plan.nodes.size(); i-- > 0 && layers > 0;)
    if (plan.nodes[i].params) {
      first = int(i);
      --layers;
    }
  std::vector<bool> full(g.ops.size(), false);
  for (size_t i = 0; i < g.ops.size() && i < op_node.size(); ++i) {
    const Op& o = g.ops[i];
    const int n = op_node[i];
    full[i] = n > first || (n == first && o.phase == Phase::backward_weight);
  }
  return full;
}

void apply_confidence_skip(OpGraph& g, const ConfidenceSkip& policy, const NetPlan* plan,
                           const std::vector<int>* op_node) {
  double threshold = 1.0;
  const size_t k = choose_skipped(sample_confidences(policy, g.batch), policy.allowable_error, threshold);
  if (policy.mode == ConfidenceMode::partial && plan && op_node) {
    apply_sample_skip(g, k, partial_update_ops(g, *plan, *op_node, policy.partial_layers));
    g.memory.figures["partial_layers"] = double(policy.partial_layers);
  } else {
    apply_sample_skip(g, k);
  }
  g.memory.figures["confidence_threshold"] = threshold;
  g.memory.figures["skipped_samples"] = double(k);
  g.memory.figures["skipped_fraction"] = double(k) / double(g.batch);
}

namespace {

constexpr config::EnumName<ConfidenceMode> kConfidenceModeNames[] = {{ConfidenceMode::skip, "skip"},
                                                                     {ConfidenceMode::partial, "partial"}};

class Confidence : public Policy {
 public:
  Confidence(const ConfidenceSkip& p, const config::Values& v, const PolicyContext& ctx) : m_p(p), m_v(v) {
    m_p.seed = ctx.seed;
    if (m_p.partial_layers && m_p.mode != ConfidenceMode::partial)
      throw v.error("partial_layers", "applies to mode: partial (mode skip runs no backward for confident samples)");
    if (!m_p.partial_layers && m_p.mode == ConfidenceMode::partial)
      throw v.error("partial_layers", "mode partial: give how many of the last layers with weights still learn (>= 1)");
    if (!v.has("histogram")) return;  // given, even empty, it replaces Beta and needs a positive bin
    double sum = 0;
    for (size_t i = 0; i < m_p.histogram.size(); ++i) {
      const double x = m_p.histogram[i];
      if (!(x >= 0))  // the weight as written, from the values (the message quotes it)
        throw v.error("histogram", "bin weights must be non-negative numbers (got " + v.strings("histogram")[i] + ")");
      sum += x;
    }
    if (!(sum > 0)) throw v.error("histogram", "give at least one bin with a positive weight");
  }
  std::string name() const override {
    if (m_p.mode == ConfidenceMode::partial)
      return fmt::format("confidence_skip({:g}, partial {})", m_p.allowable_error, m_p.partial_layers);
    return fmt::format("confidence_skip({:g})", m_p.allowable_error);
  }
  /// Partial mode names more layers than the network has with weights: refused at the key.
  std::vector<int> plan(const NetSpec& net, const NetPlan& plan) const override {
    if (m_p.mode == ConfidenceMode::partial) {
      const auto with_weights =
          uint64_t(std::count_if(plan.nodes.begin(), plan.nodes.end(), [](const Node& n) { return n.params; }));
      if (m_p.partial_layers > with_weights)
        throw m_v.error("partial_layers", fmt::format("{} names {} layers with weights; the network '{}' has {}",
                                                      m_p.partial_layers, m_p.partial_layers, net.name, with_weights));
    }
    return Policy::plan(net, plan);
  }
  void apply(OpGraph& g, const NetPlan& plan, const std::vector<int>& op_node) const override {
    apply_confidence_skip(g, m_p, &plan, &op_node);
  }

 private:
  ConfidenceSkip m_p;
  config::Values m_v;  ///< where `partial_layers` was written, for messages
};

}  // namespace

void register_confidence_policies(std::vector<PolicyRegistry::Entry>& out) {
  config::Binder<ConfidenceSkip> b("confidence_skip",
                                   "skip the backward of samples the network already predicts confidently");
  b.real("beta_a", &ConfidenceSkip::beta_a, "", "per-sample confidence ~ Beta(beta_a, beta_b)").def(8.0).positive();
  b.real("beta_b", &ConfidenceSkip::beta_b, "", "see beta_a").def(2.0).positive();
  b.list("histogram", &ConfidenceSkip::histogram,
         "instead of Beta, weights of equal-width confidence bins over [0, 1]");
  b.real("allowable_error", &ConfidenceSkip::allowable_error, "",
         "share of the batch's gradient mass Σ(1 − confidence) that skipped samples may drop")
      .def("0.05")
      .range(0, 1);
  b.choice("mode", &ConfidenceSkip::mode, kConfidenceModeNames,
           "skip: confident samples run no backward; partial: they still train the last partial_layers layers")
      .def("skip");
  b.integer("partial_layers", &ConfidenceSkip::partial_layers, "",
            "mode partial (needed there, at least 1): how many of the last layers with weights the confident "
            "samples still update")
      .def(0);
  out.push_back(entry<Confidence>(b));
}

}  // namespace bpsim::workload
