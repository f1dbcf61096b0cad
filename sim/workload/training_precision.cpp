// `training.precision`: neuron groups of linear layers at a wider dtype.
#include "sim/workload/training_precision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "sim/core/error.h"
#include "sim/core/int_math.h"
#include "sim/workload/plan.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

const config::Binder<PrecisionSpec>& precision_binder() {
  static const auto b = [] {
    config::Binder<PrecisionSpec> p("precision", "per-group mixed precision (docs/techniques.md)");
    p.real("fraction", &PrecisionSpec::fraction, "",
           "of each chosen layer's output neurons (⌈fraction·out_features⌉, the first ones) at `dtype`; 0: off")
        .def(0.0)
        .range(0.0, 1.0);
    p.choice("dtype", &PrecisionSpec::dtype, dtype_names(false), "the wider dtype of the chosen neurons").def("fp32");
    p.list("layers", &PrecisionSpec::layers, "linear layers by name (empty: every linear layer)");
    return p;
  }();
  return b;
}

namespace {

/// One chosen layer: its neurons at the wide dtype (`wide`) and at the network's (`narrow`).
struct Split {
  uint64_t wide = 0, narrow = 0;
  /// Bytes of `per` elements per neuron over all neurons, each in its dtype.
  uint64_t bytes(uint64_t per, unsigned wide_bits, unsigned narrow_bits) const {
    return ceil_div(per * (wide * wide_bits + narrow * narrow_bits), uint64_t(8));
  }
};

class Rewriter {
 public:
  Rewriter(OpGraph& g, const PrecisionSpec& p, const std::map<std::string, Split>& layers)
      : m_g(g), m_p(p), m_layers(layers), m_wide_bits(dtype_bits(p.dtype)), m_narrow_bits(dtype_bits(g.dtype)) {}

  void run() {
    resize_tensors();
    std::vector<Op> old = std::move(m_g.ops);
    m_g.ops.clear();
    for (Op& o : old) {
      for (uint32_t& d : o.deps) d = m_done.at(d);
      remap_deps(o);
      const auto it = m_layers.find(o.layer);
      const bool linear =
          o.kind == OpKind::gemm && (o.detail == "linear" || o.detail == "linear_dx" || o.detail == "linear_dw");
      if (it == m_layers.end() || !linear) {
        const uint32_t id = o.id;
        m_done[id] = push(std::move(o));
        continue;
      }
      split(std::move(o), it->second);
    }
    std::map<std::string, double>& f = m_g.memory.figures;
    f["precision_wide_macs"] = double(m_wide_macs);
    f["precision_wide_bits"] = double(m_wide_bits);
    f["precision_layers"] = double(m_layers.size());
  }

 private:
  /// A split op's dependents wait for all its parts: its first part's id stands for the
  /// op, and the parts' other ids are added where it is named.
  void remap_deps(Op& o) {
    std::vector<uint32_t> deps;
    for (uint32_t d : o.deps) {
      deps.push_back(d);
      const auto more = m_also.find(d);
      if (more != m_also.end()) deps.insert(deps.end(), more->second.begin(), more->second.end());
    }
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    o.deps = std::move(deps);
  }

  uint32_t push(Op o) {
    o.id = uint32_t(m_g.ops.size());
    m_g.ops.push_back(std::move(o));
    return m_g.ops.back().id;
  }

  /// Weights, their gradients and the layer's outputs hold each neuron in its dtype.
  void resize_tensors() {
    for (const auto& [layer, s] : m_layers) {
      std::set<uint32_t> seen;
      for (const Op& o : m_g.ops) {
        if (o.layer != layer || o.kind != OpKind::gemm || o.detail != "linear") continue;
        // Forward (and recompute): reads x and the weight (and bias); writes the output.
        const uint64_t rows = o.gemm.m, in = o.gemm.k;
        for (uint32_t t : o.reads) {
          Tensor& x = m_g.tensors[t];
          if (x.role != TensorRole::weight || !seen.insert(t).second) continue;
          const bool weight = x.name == layer + ".weight";
          x.bytes = s.bytes(weight ? in : 1, m_wide_bits, m_narrow_bits);
          resize_grad(x.name, x.bytes);
        }
        for (uint32_t t : o.writes)
          if (seen.insert(t).second) m_g.tensors[t].bytes = s.bytes(rows, m_wide_bits, m_narrow_bits);
      }
    }
  }
  void resize_grad(const std::string& param, uint64_t bytes) {
    for (Tensor& t : m_g.tensors)
      if (t.name == param + ".grad") t.bytes = bytes;
  }

  /// Y = X·W splits its N (the neurons): two GEMMs writing their columns of Y; dW = Xᵀ·dY
  /// likewise; dX = dY·Wᵀ splits its reduction (K: the neurons) into two partial products,
  /// then adds them (an elementwise op on the vector unit).
  void split(Op o, const Split& s) {
    const uint32_t old_id = o.id;
    const bool dx = o.detail == "linear_dx";
    Op wide = o, narrow = o;
    wide.dtype = m_p.dtype;
    wide.name = o.name + ".wide";
    narrow.name = o.name + ".narrow";
    uint64_t& wide_dim = dx ? wide.gemm.k : wide.gemm.n;
    uint64_t& narrow_dim = dx ? narrow.gemm.k : narrow.gemm.n;
    wide_dim = s.wide;
    narrow_dim = s.narrow;
    wide.macs = wide.gemm.macs();
    narrow.macs = narrow.gemm.macs();
    wide.flops = o.flops * s.wide / (s.wide + s.narrow);  // the bias adds of its columns
    narrow.flops = o.flops - wide.flops;
    m_wide_macs += wide.macs;
    if (s.narrow == 0) {
      wide.name = o.name;
      m_done[old_id] = push(std::move(wide));
      return;
    }
    if (!dx) {
      const uint32_t a = push(std::move(wide));
      const uint32_t b = push(std::move(narrow));
      m_done[old_id] = a;
      m_also[a] = {b};
      return;
    }
    const uint32_t out = o.writes.at(0);
    const Tensor partial_src = m_g.tensors[out];
    const uint32_t partial = uint32_t(m_g.tensors.size());
    m_g.tensors.push_back(Tensor{partial, partial_src.name + ".narrow", partial_src.bytes, partial_src.role});
    narrow.writes = {partial};
    const uint32_t a = push(std::move(wide));
    const uint32_t b = push(std::move(narrow));
    Op sum;
    sum.name = o.name + ".sum";
    sum.layer = o.layer;
    sum.phase = o.phase;
    sum.kind = OpKind::elementwise;
    sum.detail = "partial_sum";
    sum.dtype = o.dtype;
    sum.reads = {out, partial};
    sum.writes = {out};
    sum.deps = {a, b};
    sum.elements = o.gemm.m * o.gemm.n;
    sum.flops = sum.elements;
    sum.out_mask = o.out_mask;
    m_done[old_id] = push(std::move(sum));
  }

  OpGraph& m_g;
  const PrecisionSpec& m_p;
  const std::map<std::string, Split>& m_layers;
  unsigned m_wide_bits, m_narrow_bits;
  std::map<uint32_t, uint32_t> m_done;               ///< old op id → the new op that finishes it
  std::map<uint32_t, std::vector<uint32_t>> m_also;  ///< new op id → the other parts of its split op
  uint64_t m_wide_macs = 0;
};

}  // namespace

void apply_precision(OpGraph& g, const NetSpec& net, const NetPlan& plan) {
  const PrecisionSpec& p = net.training.precision;
  if (p.fraction <= 0) return;
  const std::string key = "training.precision";
  if (dtype_bits(p.dtype) <= dtype_bits(net.dtype))
    throw InputError(fmt::format("{}.dtype: {} is not wider than the network's dtype {}", key, to_string(p.dtype),
                                 to_string(net.dtype)));
  if (net.autocast != Autocast::none)
    throw InputError(key +
                     ": under autocast each op's dtype is autocast's; per-group precision is not modelled with it");
  std::map<std::string, Split> layers;
  std::set<std::string> named(p.layers.begin(), p.layers.end());
  for (const Node& n : plan.nodes) {
    if (!n.l) continue;
    const bool chosen = named.empty() || named.count(n.l->name);
    if (!chosen) continue;
    named.erase(n.l->name);
    if (n.kind != "linear") {
      if (!p.layers.empty())
        throw InputError(
            fmt::format("{}.layers: '{}' is a {} layer; per-group precision is modelled for linear layers "
                        "only (their neurons are GEMM columns)",
                        key, n.l->name, n.kind));
      continue;
    }
    if (n.tied >= 0)
      throw InputError(fmt::format(
          "{}.layers: '{}' shares its weight with an embedding, whose rows are not its neurons", key, n.l->name));
    const uint64_t out = n.l->out_features;
    const uint64_t wide = std::min<uint64_t>(out, uint64_t(std::ceil(p.fraction * double(out) - 1e-9)));
    layers[n.l->name] = Split{wide, out - wide};
  }
  if (!named.empty()) throw InputError(fmt::format("{}.layers: no layer named '{}'", key, *named.begin()));
  if (layers.empty()) throw InputError(key + ": the network has no linear layer");
  Rewriter(g, p, layers).run();
}

}  // namespace bpsim::workload
