// sparse_storage: activations kept for backward stored as non-zero values plus offsets.
#include <cmath>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "sim/workload/builder.h"
#include "sim/workload/policy.h"
#include "sim/workload/policy_rewrites.h"

namespace bpsim::workload {

void apply_sparse_storage(OpGraph& g, const NetPlan& plan, const SparseStorage& policy) {
  const uint64_t elem_bits = dtype_bits(g.dtype);
  std::map<std::string, double> relu_density;  // a ReLU's layer name → its output density
  for (const Node& nd : plan.nodes)
    if (nd.kind == "relu") relu_density[nd.l->name] = nd.l->density;

  // Each activation a forward op writes, and the first op after the forward (the loss's
  // immediate read of the logits aside) that reads it.
  const size_t nt = g.tensors.size(), nops = g.ops.size();
  std::vector<int64_t> writer(nt, -1), first_reader(nt, -1);
  for (const Op& o : g.ops) {
    if (o.phase == Phase::forward) {
      for (uint32_t t : o.writes) writer[t] = o.id;
      continue;
    }
    if (o.layer == "loss") continue;
    for (uint32_t t : o.reads)
      if (writer[t] >= 0 && first_reader[t] < 0) first_reader[t] = o.id;
  }
  struct Choice {
    uint32_t tensor;
    uint64_t elements, compressed;
  };
  std::vector<std::vector<Choice>> encode_after(nops), decode_before(nops);
  double saved = 0, flops = 0, count = 0;
  for (uint32_t t = 0; t < nt; ++t) {
    if (writer[t] < 0 || first_reader[t] < 0 || g.tensors[t].role != TensorRole::activation) continue;
    const Op& w = g.ops[size_t(writer[t])];
    const auto relu = relu_density.find(w.layer);
    const double d = policy.density >= 0                                ? policy.density
                     : w.detail == "relu" && relu != relu_density.end() ? relu->second
                                                                        : 1.0;
    const uint64_t n = g.tensors[t].bytes * 8 / elem_bits;
    const uint64_t nnz = uint64_t(std::ceil(d * double(n)));
    // Values in the network's dtype plus one offset (index delta) per value.
    const uint64_t compressed = (nnz * (elem_bits + policy.index_bits) + 7) / 8;
    if (compressed >= g.tensors[t].bytes) continue;
    encode_after[size_t(writer[t])].push_back({t, n, compressed});
    decode_before[size_t(first_reader[t])].push_back({t, n, compressed});
    saved += double(g.tensors[t].bytes - compressed);
    flops += 2.0 * double(n);
    ++count;
  }

  // The encode and decode ops, and the backward readers switched to the decoded copies.
  std::vector<std::vector<Op>> before(nops), after(nops);
  std::map<uint32_t, uint32_t> sparse_of, dense_of;  // by original tensor
  auto tensor = [&](const std::string& name, uint64_t bytes, TensorRole role) {
    const uint32_t id = static_cast<uint32_t>(g.tensors.size());
    g.tensors.push_back(Tensor{id, name, bytes, role});
    return id;
  };
  auto coder = [&](const Choice& c, const char* what, Phase ph, uint32_t in, uint32_t result) {
    Op o;
    o.name = g.tensors[c.tensor].name + "." + what;
    o.layer = g.ops[size_t(writer[c.tensor])].layer;
    o.phase = ph;
    o.kind = OpKind::elementwise;
    o.detail = std::string("sparse_") + what;
    o.dtype = g.dtype;
    o.elements = c.elements;
    o.flops = c.elements;  // one compare-and-compact (or scatter) per element
    o.reads = {in};
    o.writes = {result};
    return o;
  };
  for (size_t k = 0; k < nops; ++k) {
    for (const Choice& c : encode_after[k]) {
      sparse_of[c.tensor] = tensor(g.tensors[c.tensor].name + ".sparse", c.compressed, TensorRole::saved);
      after[k].push_back(coder(c, "encode", Phase::forward, c.tensor, sparse_of[c.tensor]));
    }
    for (const Choice& c : decode_before[k]) {
      dense_of[c.tensor] =
          tensor(g.tensors[c.tensor].name + ".decoded", g.tensors[c.tensor].bytes, TensorRole::activation);
      before[k].push_back(coder(c, "decode", Phase::backward_data, sparse_of[c.tensor], dense_of[c.tensor]));
    }
    if (g.ops[k].phase == Phase::forward) continue;
    for (uint32_t& r : g.ops[k].reads) {
      auto it = dense_of.find(r);
      if (it != dense_of.end()) r = it->second;
    }
  }
  splice_ops(g, std::move(before), std::move(after));
  g.memory.figures["sparse_tensors"] = count;
  g.memory.figures["sparse_bytes_saved"] = saved;
  g.memory.figures["sparse_encode_flops"] = flops / 2;
  g.memory.figures["sparse_decode_flops"] = flops / 2;
}

namespace {

struct SparseParams {
  std::optional<double> density;  ///< absent: each ReLU's density, other activations dense
  unsigned index_bits;
};

class Sparse : public Policy {
 public:
  explicit Sparse(const SparseParams& p) {
    m_p.density = p.density.value_or(-1.0);
    m_p.index_bits = p.index_bits;
  }
  std::string name() const override {
    return m_p.density < 0 ? fmt::format("sparse_storage(relu density, {}-bit offsets)", m_p.index_bits)
                           : fmt::format("sparse_storage({:g}, {}-bit offsets)", m_p.density, m_p.index_bits);
  }
  void apply(OpGraph& g, const NetPlan& plan, const std::vector<int>&) const override {
    apply_sparse_storage(g, plan, m_p);
  }

 private:
  SparseStorage m_p;
};

}  // namespace

void register_sparse_policies(std::vector<PolicyRegistry::Entry>& out) {
  config::Binder<SparseParams> b("sparse_storage",
                                 "store activations kept for backward as non-zero values plus offsets when smaller");
  b.real("density", &SparseParams::density, "",
         "fraction of non-zero activation elements (default: each ReLU's density, other activations dense)")
      .range(0, 1);
  b.integer("index_bits", &SparseParams::index_bits, "bit", "width of each stored offset").def(16).range(1, 64);
  out.push_back(entry<Sparse>(b));
}

}  // namespace bpsim::workload
