// confidence_skip: samples the network already predicts confidently skip their backward.
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

void apply_sample_skip(OpGraph& g, uint64_t skipped) {
  const uint64_t b = g.batch, kept = b - std::min(skipped, b);
  auto sc = [&](uint64_t x) { return x * kept / b; };
  std::vector<bool> from_loss(g.tensors.size(), false);
  for (const Op& o : g.ops)
    if (o.layer == "loss")  // every sample's loss is computed: it gives the confidences
      for (uint32_t t : o.writes) from_loss[t] = true;
  double macs = 0, flops = 0;
  for (Op& o : g.ops) {
    const bool backward = o.phase == Phase::backward_data || o.phase == Phase::backward_weight;
    if (!backward || o.layer == "loss") continue;
    const uint64_t m0 = o.macs, f0 = o.flops;
    if (o.gemm.macs()) {
      // The sample rows of the GEMM: per-head batched GEMMs (attention) count instances;
      // dX = dY·Wᵀ has them in M, dW = Xᵀ·dY in K (im2col rows for convolutions).
      if (o.gemm.batch > 1) o.gemm.batch = sc(o.gemm.batch);
      else if (o.phase == Phase::backward_data) o.gemm.m = sc(o.gemm.m);
      else o.gemm.k = sc(o.gemm.k);
      if (o.conv.n) o.conv.n = sc(o.conv.n);
      o.macs = o.gemm.macs();
    } else {
      o.macs = sc(o.macs);
    }
    o.flops = sc(o.flops);
    if (o.kind != OpKind::reduction) o.elements = sc(o.elements);  // a reduction's outputs stay
    macs += double(m0 - o.macs);
    flops += double(f0 - o.flops);
  }
  for (Tensor& t : g.tensors)
    if (t.role == TensorRole::gradient && !from_loss[t.id]) t.bytes = sc(t.bytes);
  g.memory.figures["backward_macs_saved"] = macs;
  g.memory.figures["backward_flops_saved"] = flops;
}

void apply_confidence_skip(OpGraph& g, const ConfidenceSkip& policy) {
  double threshold = 1.0;
  const size_t k = choose_skipped(sample_confidences(policy, g.batch), policy.allowable_error, threshold);
  apply_sample_skip(g, k);
  g.memory.figures["confidence_threshold"] = threshold;
  g.memory.figures["skipped_samples"] = double(k);
  g.memory.figures["skipped_fraction"] = double(k) / double(g.batch);
}

namespace {

class Confidence : public Policy {
 public:
  Confidence(const ConfidenceSkip& p, const config::Values& v, const PolicyContext& ctx) : m_p(p) {
    m_p.seed = ctx.seed;
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
  std::string name() const override { return fmt::format("confidence_skip({:g})", m_p.allowable_error); }
  void apply(OpGraph& g, const NetPlan&, const std::vector<int>&) const override { apply_confidence_skip(g, m_p); }

 private:
  ConfidenceSkip m_p;
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
  out.push_back(entry<Confidence>(b));
}

}  // namespace bpsim::workload
