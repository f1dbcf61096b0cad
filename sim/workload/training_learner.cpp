// `training.learner`: backprop, or ensemble Kalman inversion on low-bit weights (enkf).
#include "sim/workload/training_learner.h"

#include <fmt/format.h>

#include <map>

#include "sim/core/error.h"
#include "sim/core/int_math.h"
#include "sim/workload/emit.h"
#include "sim/workload/plan.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

const config::Binder<LearnerSpec>& learner_binder() {
  static const auto b = [] {
    config::Binder<LearnerSpec> l("learner", "what trains the weights (docs/techniques.md)");
    l.choice("kind", &LearnerSpec::kind, kLearnerNames,
             "backprop: the backward and the optimizer; enkf: ensemble Kalman inversion, N forward passes and a "
             "low-bit update, no backward")
        .def("backprop");
    l.integer("ensemble", &LearnerSpec::ensemble, "members", "enkf: forward passes (ensemble members) per step")
        .def(16)
        .range(2, 4096);
    l.integer("weight_bits", &LearnerSpec::weight_bits, "bits",
              "enkf: bits of each stored weight (at most the network dtype's; the update rounds to it)")
        .def(8)
        .range(1, 32);
    l.choice("perturbations", &LearnerSpec::state, kEnsembleStateNames,
             "enkf: stored (every member's weights kept, EKI's particles) or seeded (the mean weights and one seed "
             "per member; perturbations drawn again in the forward and the update)")
        .def("stored");
    return l;
  }();
  return b;
}

namespace {

constexpr uint64_t kSeedBytes = 8;  ///< one 64-bit seed per member (seeded)
constexpr uint64_t kStatBytes = 4;  ///< the ensemble statistics kept at 32 bits (fp32, or int32 accumulators)
/// Vector-unit arithmetic per element: a counter-based draw, its scale by σ and the add to
/// the mean weight (perturb); rounding to weight_bits, a scale and a clip (quantize).
constexpr uint64_t kPerturbFlops = 3, kQuantizeFlops = 2;

/// Builds the enkf step into `g` from one member's forward `f`.
class EnkfBuilder {
 public:
  EnkfBuilder(const NetSpec& net, const LearnerSpec& l, const OpGraph& f, uint32_t out, OpGraph& g)
      : m_net(net), m_l(l), m_f(f), m_out(out), m_g(g) {
    // The statistics compute in the network's dtype, as its forward GEMMs; a binary network's
    // latent weights are that dtype too (its binary layers binarise them as they read them).
    m_stat_dtype = net.dtype;
  }

  void build() {
    for (const Tensor& t : m_f.tensors)
      if (t.role == TensorRole::input) m_shared[t.id] = tensor(t.name, t.bytes, t.role);
    for (const Tensor& t : m_f.tensors)
      if (t.role == TensorRole::weight) m_weights.push_back(t.id);
    if (m_l.state == EnsembleState::seeded) {
      m_seeds = tensor("enkf.seeds", m_l.ensemble * kSeedBytes, TensorRole::optimizer_state);
      for (uint32_t w : m_weights) m_mean[w] = tensor(m_f.tensors[w].name, stored_bytes(w), TensorRole::weight);
    } else {
      for (uint64_t m = 0; m < m_l.ensemble; ++m)
        for (uint32_t w : m_weights)
          m_member[{m, w}] = tensor(member_name(m, m_f.tensors[w].name), stored_bytes(w), TensorRole::weight);
    }
    std::vector<uint32_t> outs;
    for (uint64_t m = 0; m < m_l.ensemble; ++m) outs.push_back(member_forward(m));
    update(outs);
    figures();
  }

 private:
  uint64_t elements(uint32_t w) const { return m_f.tensors[w].bytes * 8 / dtype_bits(m_net.dtype); }
  uint64_t stored_bytes(uint32_t w) const { return ceil_div(elements(w) * m_l.weight_bits, uint64_t(8)); }
  static std::string member_name(uint64_t m, const std::string& name) { return fmt::format("ens{}.{}", m, name); }

  uint32_t tensor(const std::string& name, uint64_t bytes, TensorRole role) {
    const uint32_t id = uint32_t(m_g.tensors.size());
    m_g.tensors.push_back(Tensor{id, name, bytes, role});
    return id;
  }

  Op& op(const std::string& name, const std::string& layer, Phase ph, OpKind kind, std::vector<uint32_t> reads,
         std::vector<uint32_t> writes) {
    Op& o = append_op(m_g, m_producer, name, layer, ph, kind, std::move(reads), std::move(writes));
    o.dtype = m_stat_dtype;
    return o;
  }

  /// Member m's weight as its forward reads it: its stored weights, or (seeded) the mean
  /// plus its perturbation, drawn from its seed into a copy in the network's dtype.
  uint32_t member_weight(uint64_t m, uint32_t w) {
    if (m_l.state == EnsembleState::stored) return m_member.at({m, w});
    const Tensor& t = m_f.tensors[w];
    const uint32_t copy = tensor(member_name(m, t.name), t.bytes, TensorRole::activation);
    Op& o = op(member_name(m, t.name) + ".perturb", member_name(m, t.name.substr(0, t.name.rfind('.'))), Phase::forward,
               OpKind::elementwise, {m_mean.at(w), m_seeds}, {copy});
    o.elements = elements(w);
    o.flops = kPerturbFlops * elements(w);
    o.detail = "enkf_perturb";
    return copy;
  }

  /// Member m's forward: every op of `f` with its tensors renamed `ens<m>.`; returns its output.
  uint32_t member_forward(uint64_t m) {
    std::map<uint32_t, uint32_t> map = m_shared;
    for (const Op& src : m_f.ops) {
      std::vector<uint32_t> reads, writes;
      for (uint32_t t : src.reads) {
        if (!map.count(t)) {
          const Tensor& x = m_f.tensors[t];
          map[t] = x.role == TensorRole::weight ? member_weight(m, t) : tensor(member_name(m, x.name), x.bytes, x.role);
        }
        reads.push_back(map[t]);
      }
      for (uint32_t t : src.writes) {
        if (!map.count(t))
          map[t] = tensor(member_name(m, m_f.tensors[t].name), m_f.tensors[t].bytes, m_f.tensors[t].role);
        m_g.tensors[map[t]].bits = m_f.tensors[t].bits;
        writes.push_back(map[t]);
      }
      // Each member's layers are layers of their own (a mesh maps each onto clusters of its own).
      Op& o = op(member_name(m, src.name), member_name(m, src.layer), Phase::forward, src.kind, reads, writes);
      const uint32_t id = o.id;
      const std::vector<uint32_t> deps = o.deps;
      o = src;  // shape, counts, masks and dtype as one member's forward has them
      o.id = id;
      o.name = member_name(m, src.name);
      o.layer = member_name(m, src.layer);
      o.reads = std::move(reads);
      o.writes = std::move(writes);
      o.deps = deps;
      o.holds.clear();
    }
    return map.at(m_out);
  }

  /// EKI's update in the ensemble's span (Kovachki & Stuart 2019, eq. 6, with Γ = γI and
  /// the Woodbury identity, so only N×N systems are solved): ΔG = G − Ḡ and R = Y − G
  /// (D×N, D the outputs of the batch); A = ΔGᵀΔG/N + γI and B = ΔGᵀR; X = A⁻¹B; every member
  /// moves by its ensemble's deviations times X (stored: Θ ← Θ·(I + (I − 11ᵀ/N)X), one
  /// GEMM per weight; seeded: the mean by the deviations times X's mean column, the
  /// perturbations drawn again); then each weight is rounded to weight_bits.
  void update(const std::vector<uint32_t>& outs) {
    const uint64_t n = m_l.ensemble;
    const uint64_t d = m_f.tensors[m_out].bytes * 8 / dtype_bits(m_net.dtype);
    const uint32_t target = tensor("enkf.target", m_f.tensors[m_out].bytes, TensorRole::input);
    const uint32_t dg = tensor("enkf.deviation", d * n * kStatBytes, TensorRole::workspace);
    const uint32_t res = tensor("enkf.residual", d * n * kStatBytes, TensorRole::workspace);
    std::vector<uint32_t> reads = outs;
    reads.push_back(target);
    Op& r = op("enkf.residual", "enkf", Phase::update, OpKind::elementwise, reads, {dg, res});
    r.elements = 2 * d * n;
    r.flops = 3 * d * n;  // Ḡ (N adds per output), G − Ḡ, Y − G
    r.detail = "enkf_residual";
    const uint32_t a = tensor("enkf.gram", n * n * kStatBytes, TensorRole::workspace);
    const uint32_t b = tensor("enkf.projection", n * n * kStatBytes, TensorRole::workspace);
    gemm("enkf.gram", {dg}, a, n, n, d);
    gemm("enkf.projection", {dg, res}, b, n, n, d);
    // Cholesky of A (N³/6 MACs) and its two triangular solves for N right-hand sides
    // (N³ MACs), then the mixing matrix I + (I − 11ᵀ/N)X (2N² flops): on the vector unit.
    const uint32_t x = tensor("enkf.mixing", n * n * kStatBytes, TensorRole::workspace);
    Op& s = op("enkf.solve", "enkf", Phase::update, OpKind::reduction, {a, b}, {x});
    s.elements = n * n;
    s.flops = 2 * (n * n * n + ceil_div(n * n * n, uint64_t(6))) + 2 * n * n;
    s.detail = "cholesky_solve";
    for (uint32_t w : m_weights) update_weight(w, x);
  }

  void gemm(const std::string& name, std::vector<uint32_t> reads, uint32_t out, uint64_t m, uint64_t nn, uint64_t k) {
    Op& o = op(name, "enkf", Phase::update, OpKind::gemm, std::move(reads), {out});
    o.gemm = GemmDims{m, nn, k, 1};
    o.macs = o.gemm.macs();
    o.detail = "enkf_statistics";
    m_update_macs += o.macs;
  }

  void update_weight(uint32_t w, uint32_t mix) {
    const Tensor& t = m_f.tensors[w];
    const std::string layer = t.name.substr(0, t.name.rfind('.'));
    const uint64_t p = elements(w), n = m_l.ensemble;
    std::vector<uint32_t> state;
    if (m_l.state == EnsembleState::stored) {
      for (uint64_t m = 0; m < n; ++m) state.push_back(m_member.at({m, w}));
      std::vector<uint32_t> reads = state;
      reads.push_back(mix);
      Op& o = op(t.name + ".enkf_update", layer, Phase::update, OpKind::gemm, reads, state);
      o.gemm = GemmDims{p, n, n, 1};  // Θ (P×N) · (N×N)
      o.macs = o.gemm.macs();
      o.detail = "enkf_update";
      m_update_macs += o.macs;
    } else {
      // Σₙ x̄ₙ·δₙ with each δₙ drawn again from its seed: N axpys of P, no P×N temporary.
      state.push_back(m_mean.at(w));
      Op& o =
          op(t.name + ".enkf_update", layer, Phase::update, OpKind::elementwise, {m_mean.at(w), m_seeds, mix}, state);
      o.elements = p;
      o.flops = n * p * (kPerturbFlops - 1 + 2);  // draw and scale, then multiply-add
      o.detail = "enkf_update";
    }
    Op& q = op(t.name + ".quantize", layer, Phase::update, OpKind::elementwise, state, state);
    q.elements = p * state.size();
    q.flops = kQuantizeFlops * q.elements;
    q.detail = "quantize";
  }

  void figures() {
    std::map<std::string, double>& f = m_g.memory.figures;
    uint64_t weights = 0, member_bytes = 0;
    for (uint32_t w : m_weights) {
      weights += elements(w);
      member_bytes += stored_bytes(w);
    }
    f["enkf_ensemble"] = double(m_l.ensemble);
    f["enkf_weight_bits"] = double(m_l.weight_bits);
    f["enkf_weights"] = double(weights);
    f["enkf_state_bytes"] = m_l.state == EnsembleState::stored ? double(member_bytes * m_l.ensemble)
                                                               : double(member_bytes + m_l.ensemble * kSeedBytes);
    f["enkf_forward_macs"] = double(m_f.total_macs() * m_l.ensemble);
    f["enkf_update_macs"] = double(m_update_macs);
  }

  const NetSpec& m_net;
  const LearnerSpec& m_l;
  const OpGraph& m_f;
  uint32_t m_out;
  OpGraph& m_g;
  DType m_stat_dtype;
  std::vector<uint32_t> m_weights;                             ///< f's weight tensors
  std::map<uint32_t, uint32_t> m_shared;                       ///< f's input → g's
  std::map<uint32_t, uint32_t> m_mean;                         ///< seeded: f's weight → mean weight
  std::map<std::pair<uint64_t, uint32_t>, uint32_t> m_member;  ///< stored: (member, f's weight) → its weights
  uint32_t m_seeds = 0;
  std::map<uint32_t, uint32_t> m_producer;
  uint64_t m_update_macs = 0;
};

}  // namespace

OpGraph build_enkf_step(const NetSpec& net, const NetPlan& plan, const std::string& policy) {
  const LearnerSpec& l = net.training.learner;
  const std::string key = "training.learner";
  auto refuse = [&](const std::string& why) { return InputError(key + ": enkf " + why); };
  if (policy != "none")
    throw refuse("has no backward, so memory policy '" + policy + "' has nothing to store or recompute (use none)");
  if (net.training.precision.fraction > 0)
    throw refuse(
        "stores every weight at weight_bits; training.precision's wider neuron groups are not modelled with it");
  // The techniques that shape a backward pass (or add one) have none to shape here.
  for (const auto& [on, name] : {std::pair{net.training.feedback.kind != FeedbackKind::backprop, "training.feedback"},
                                 std::pair{!net.training.block_update.blocks.empty(), "training.block_update"},
                                 std::pair{net.training.newton.kind != NewtonKind::none, "training.newton"},
                                 std::pair{net.training.early_exit.on(), "training.early_exit"},
                                 std::pair{net.training.distill.on(), "training.distill"},
                                 std::pair{net.training.prune_regrow.on(), "training.prune_regrow"}})
    if (on) throw refuse(std::string("has no backward pass or gradient update for ") + name + " to change");
  if (net.autocast != Autocast::none) throw refuse("computes in the network's dtype; autocast is not modelled with it");
  if (net.framework != Framework::none || net.allocator != Allocator::none)
    throw refuse("is priced on an accelerator; a framework's or allocator's accounting is not modelled with it");
  if (l.weight_bits > dtype_bits(net.dtype))
    throw refuse(fmt::format("weight_bits {} exceeds the network's {} ({} bits): its forward computes in that dtype",
                             l.weight_bits, to_string(net.dtype), dtype_bits(net.dtype)));
  if (plan.output < 0) throw refuse("needs a network output to compare with the targets");
  OpGraph f;
  f.name = net.name;
  f.dtype = net.dtype;
  f.batch = net.batch;
  StepEmitter e(net, plan, f);
  std::vector<NodeCtx> ctx(plan.nodes.size());
  for (size_t i = 0; i < plan.nodes.size(); ++i) e.forward(i, Phase::forward, ctx);
  OpGraph g;
  g.name = net.name;
  g.dtype = net.dtype;
  g.batch = net.batch;
  EnkfBuilder(net, l, f, ctx[size_t(plan.output)].out, g).build();
  return g;
}

}  // namespace bpsim::workload
