#include <algorithm>

#include "sim/workload/emit.h"

namespace bpsim::workload {

namespace {
bool is_binary(const std::string& k) { return k == "binary_linear" || k == "binary_conv2d"; }
bool is_conv(const std::string& k) { return k == "conv2d" || k == "binary_conv2d"; }
/// 1-bit tensors are packed 8 per byte.
uint64_t bits_bytes(uint64_t n) { return (n + 7) / 8; }
/// Bits of a count from 0 to k: ⌈log2(k + 1)⌉.
unsigned popcount_bits(uint64_t k) {
  unsigned b = 0;
  while (b < 64 && (uint64_t(1) << b) <= k) ++b;
  return b;
}
}  // namespace

StepEmitter::StepEmitter(const NetSpec& net, const NetPlan& plan, OpGraph& g)
    : m_net(net), m_plan(plan), m_g(g), m_elem(dtype_bits(net.dtype) / 8) {
  // Token ids are int64 in PyTorch; any other input is in the network's dtype.
  const bool tokens = !plan.nodes.empty() && plan.nodes[0].kind == "embedding";
  m_input = tensor("input", net.batch * product(net.input_shape) * (tokens ? 8 : m_elem), TensorRole::input);
  m_params.resize(plan.nodes.size());
  for (size_t i = 0; i < plan.nodes.size(); ++i) params_of(i);
}

uint32_t StepEmitter::tensor(const std::string& name, uint64_t bytes, TensorRole role) {
  const uint32_t id = static_cast<uint32_t>(m_g.tensors.size());
  m_g.tensors.push_back(Tensor{id, name, bytes, role});
  return id;
}

Op& StepEmitter::op(const std::string& name, const std::string& layer, Phase ph, OpKind kind,
                    std::vector<uint32_t> reads, std::vector<uint32_t> writes) {
  Op o;
  o.id = static_cast<uint32_t>(m_g.ops.size());
  o.name = name;
  o.layer = layer;
  o.phase = ph;
  o.kind = kind;
  o.dtype = m_net.dtype;
  o.reads = std::move(reads);
  o.writes = std::move(writes);
  for (uint32_t t : o.reads) {
    auto it = m_producer.find(t);
    if (it != m_producer.end() && std::find(o.deps.begin(), o.deps.end(), it->second) == o.deps.end())
      o.deps.push_back(it->second);
  }
  for (uint32_t t : o.writes) m_producer[t] = o.id;
  m_g.ops.push_back(std::move(o));
  return m_g.ops.back();
}

void StepEmitter::params_of(size_t i) {
  const Node& n = m_plan.nodes[i];
  const LayerSpec& l = *n.l;
  auto add = [&](const std::string& what, uint64_t elements) {
    const uint32_t t = tensor(l.name + "." + what, bytes(elements), TensorRole::weight);
    m_params[i].push_back(t);
    m_param_order.push_back(t);
  };
  const uint64_t in_last = n.in_shape.empty() ? 0 : n.in_shape.back();
  if (n.kind == "linear" || n.kind == "binary_linear") {
    add("weight", in_last * l.out_features);
    if (l.bias) add("bias", l.out_features);
  } else if (is_conv(n.kind)) {
    add("weight", l.out_features * (n.in_shape[0] / l.groups) * l.kernel * l.kernel);
    if (l.bias) add("bias", l.out_features);
  } else if (n.kind == "layernorm" || n.kind == "batchnorm") {
    const uint64_t features = n.kind == "layernorm" ? in_last : n.in_shape[0];
    add("weight", features);
    add("bias", features);
  } else if (n.kind == "embedding") {
    add("weight", l.vocab * l.out_features);
  }
}

ConvShape StepEmitter::conv_shape(size_t i) const {
  const Node& n = m_plan.nodes[i];
  const LayerSpec& l = *n.l;
  return ConvShape{m_net.batch, n.in_shape[0], n.in_shape[1], n.in_shape[2], n.out_shape[0], l.kernel,
                   l.kernel,    l.stride,      l.padding,     l.groups,      n.out_shape[1], n.out_shape[2]};
}

GemmDims StepEmitter::forward_dims(size_t i) const {
  const Node& n = m_plan.nodes[i];
  if (is_conv(n.kind)) {
    const ConvShape c = conv_shape(i);
    return GemmDims{c.n * c.p * c.q, c.k, c.c * c.r * c.s / c.groups, 1};  // im2col
  }
  const uint64_t rows = m_net.batch * product(n.in_shape) / n.in_shape.back();
  return GemmDims{rows, n.out_shape.back(), n.in_shape.back(), 1};
}

void StepEmitter::forward(size_t i, Phase ph, std::vector<NodeCtx>& ctx) {
  const Node& n = m_plan.nodes[i];
  const LayerSpec& l = *n.l;
  const bool re = ph == Phase::recompute;
  const std::string suffix = re ? ".recompute" : ".fwd", tsuf = re ? ".re" : "";
  const uint64_t b = m_net.batch, in_el = b * product(n.in_shape), out_el = b * product(n.out_shape);
  NodeCtx& c = ctx[i];
  c = NodeCtx{};
  for (int j : n.in) c.in.push_back(j < 0 ? m_input : ctx[size_t(j)].out);
  if (n.kind == "flatten") {  // a view: the same storage
    c.out = c.in[0];
    return;
  }
  if (n.kind == "attention_core") return forward_attention(i, ph, c);
  if (is_binary(n.kind)) return forward_binary(i, ph, c);
  c.out = tensor(l.name + ".out" + tsuf, bytes(out_el), TensorRole::activation);
  std::vector<uint32_t> reads = c.in, writes = {c.out};
  reads.insert(reads.end(), m_params[i].begin(), m_params[i].end());
  auto keep = [&](const std::string& what, uint64_t nbytes, TensorRole role) {
    c.keep.push_back(tensor(l.name + "." + what + tsuf, nbytes, role));
    writes.push_back(c.keep.back());
  };
  OpKind kind = OpKind::elementwise;
  uint64_t flops = out_el;
  if (n.kind == "linear" || n.kind == "conv2d") {
    kind = is_conv(n.kind) ? OpKind::conv : OpKind::gemm;
    flops = l.bias ? out_el : 0;
  } else if (n.kind == "maxpool") {
    keep("indices", out_el * 8, TensorRole::saved);  // int64 argmax, as PyTorch keeps
    kind = OpKind::pool;
    flops = out_el * l.kernel * l.kernel;
  } else if (n.kind == "avgpool") {
    kind = OpKind::pool;
    flops = in_el;
  } else if (n.kind == "dropout") {
    keep("mask", out_el, TensorRole::mask);  // a 1-byte bool per element
  } else if (n.kind == "gelu") {
    flops = out_el * 8;
  } else if (n.kind == "softmax") {
    kind = OpKind::softmax;
    flops = out_el * 5;
  } else if (n.kind == "layernorm" || n.kind == "batchnorm") {
    // fp32 mean and rstd: per row (layernorm) or per channel (batchnorm).
    const uint64_t groups = n.kind == "layernorm" ? in_el / n.in_shape.back() : n.in_shape[0];
    keep("stats", groups * 2 * 4, TensorRole::saved);
    kind = OpKind::normalization;
    flops = out_el * 8;
  } else if (n.kind == "embedding") {
    kind = OpKind::embedding;
    flops = 0;
  }
  Op& o = op(l.name + suffix, l.name, ph, kind, reads, writes);
  o.detail = n.kind;
  o.flops = flops;
  o.elements = out_el;
  if (kind == OpKind::gemm || kind == OpKind::conv) {
    o.gemm = forward_dims(i);
    if (kind == OpKind::conv) o.conv = conv_shape(i);
    o.macs = o.gemm.macs();
    o.elements = 0;
  }
  // Activation sparsity: the share of non-zero outputs, for models that send only those
  // (the mesh). A ReLU's is its spec density; dropout zeroes a share p of its inputs.
  if (n.kind == "relu") {
    o.out_mask.source = OutputMask::Source::relu;
    o.out_mask.density = l.density;
  } else if (n.kind == "dropout" && l.p > 0) {
    o.out_mask.source = OutputMask::Source::random;
    o.out_mask.density = 1.0 - l.p;
  }
}

void StepEmitter::forward_attention(size_t i, Phase ph, NodeCtx& c) {
  const Node& n = m_plan.nodes[i];
  const LayerSpec& l = *n.l;
  const std::string re = ph == Phase::recompute ? ".re" : "";
  const uint64_t b = m_net.batch, s = n.in_shape[0], h = n.out_shape[1], a = l.heads, d = h / a;
  const uint64_t probs_el = b * a * s * s;
  // S = QKᵀ per head; Q, K and V are views of the QKV projection's output (one base tensor).
  const uint32_t scores = tensor(l.name + ".scores" + re, bytes(probs_el), TensorRole::activation);
  Op& qk = op(l.name + ".scores" + re, l.name, ph, OpKind::gemm, {c.in[0]}, {scores});
  qk.gemm = GemmDims{s, s, d, b * a};
  qk.macs = qk.gemm.macs();
  qk.detail = "attention_qk";
  // softmax(S/√d) with the causal mask applied in the same kernel: keeps only its output.
  const uint32_t probs = tensor(l.name + ".probs" + re, bytes(probs_el), TensorRole::activation);
  Op& sm = op(l.name + ".softmax" + re, l.name, ph, OpKind::softmax, {scores}, {probs});
  sm.elements = probs_el;
  sm.flops = probs_el * 6;
  sm.detail = l.causal ? "scaled_causal_softmax" : "scaled_softmax";
  c.keep.push_back(probs);
  uint32_t used = probs;
  if (l.p > 0) {
    const uint32_t mask = tensor(l.name + ".drop_mask" + re, probs_el, TensorRole::mask);
    used = tensor(l.name + ".dropped" + re, bytes(probs_el), TensorRole::activation);
    Op& dr = op(l.name + ".dropout" + re, l.name, ph, OpKind::elementwise, {probs}, {used, mask});
    dr.elements = probs_el;
    dr.flops = probs_el;
    dr.detail = "dropout";
    c.keep.push_back(mask);
    c.keep.push_back(used);
  }
  // O = P·V per head, written with the heads merged back into [tokens, hidden].
  c.out = tensor(l.name + ".out" + re, bytes(b * s * h), TensorRole::activation);
  Op& pv =
      op(l.name + (ph == Phase::recompute ? ".recompute" : ".fwd"), l.name, ph, OpKind::gemm, {used, c.in[0]}, {c.out});
  pv.gemm = GemmDims{s, d, s, b * a};
  pv.macs = pv.gemm.macs();
  pv.detail = "attention_pv";
}

void StepEmitter::forward_binary(size_t i, Phase ph, NodeCtx& c) {
  const Node& n = m_plan.nodes[i];
  const LayerSpec& l = *n.l;
  const std::string re = ph == Phase::recompute ? ".re" : "";
  const uint64_t in_el = m_net.batch * product(n.in_shape), out_el = m_net.batch * product(n.out_shape);
  const uint32_t w = m_params[i][0];
  const uint64_t w_el = m_g.tensors[w].bytes / m_elem;
  // sign(x) packed 1 bit per element (read again by dW), and the straight-through
  // estimator's 1{|x| ≤ 1} bit (read by dX): what a binary network must keep.
  const uint32_t xb = tensor(l.name + ".in_sign" + re, bits_bytes(in_el), TensorRole::saved);
  const uint32_t ste = tensor(l.name + ".ste_mask" + re, bits_bytes(in_el), TensorRole::mask);
  Op& sx = op(l.name + ".sign" + re, l.name, ph, OpKind::bitwise, {c.in[0]}, {xb, ste});
  sx.elements = in_el;
  sx.flops = in_el * 2;
  sx.detail = "sign";
  // sign(w) of the latent real-valued weights, kept for dX.
  const uint32_t wb = tensor(l.name + ".weight_sign" + re, bits_bytes(w_el), TensorRole::saved);
  Op& sw = op(l.name + ".wsign" + re, l.name, ph, OpKind::bitwise, {w}, {wb});
  sw.elements = w_el;
  sw.flops = w_el;
  sw.detail = "sign";
  c.keep = {xb, ste, wb};
  // The layer computes y = Σ_K xnor(x, w) as the signed integer 2·popcount − K in [−K, K]:
  // ⌈log2(K + 1)⌉ + 1 bits per element, packed. That integer, not a real number, is what
  // the batchnorm after it reads (its statistics, then the next sign and STE mask).
  const GemmDims d = forward_dims(i);
  const unsigned y_bits = popcount_bits(d.k) + 1;
  c.out = tensor(l.name + ".out" + re, (out_el * y_bits + 7) / 8, TensorRole::activation);
  m_g.tensors[c.out].bits = y_bits;
  m_elements[c.out] = out_el;
  Op& o =
      op(l.name + (ph == Phase::recompute ? ".recompute" : ".fwd"), l.name, ph, OpKind::xnor_gemm, {xb, wb}, {c.out});
  o.gemm = d;
  if (is_conv(n.kind)) o.conv = conv_shape(i);
  o.macs = o.gemm.macs();
  o.detail = n.kind;
}

uint64_t StepEmitter::elements(uint32_t t) const {
  auto it = m_elements.find(t);
  return it != m_elements.end() ? it->second : m_g.tensors[t].bytes / m_elem;
}

uint32_t StepEmitter::loss_grad(uint32_t out) {
  if (m_net.loss != Loss::none) return loss_backward(out);  // emit_loss.cpp
  const uint64_t n = elements(out);
  const uint32_t dy = tensor("loss.grad", bytes(n), TensorRole::gradient);
  Op& o = op("loss.bwd", "loss", Phase::backward_data, OpKind::elementwise, {out}, {dy});
  o.elements = n;
  o.flops = n * 4;  // softmax cross-entropy gradient: exp, sum, divide, subtract
  o.detail = "loss_grad";
  return dy;
}

void StepEmitter::update() {
  const Optimizer opt = m_net.optimizer;
  const unsigned states = opt == Optimizer::adam ? 2 : opt == Optimizer::momentum ? 1 : 0;
  const char* name = config::enum_name(kOptimizerNames, opt);
  // Arithmetic per parameter: sgd w -= lr·g (2); momentum adds v = μv + g (4);
  // adam: two moment updates, bias corrections, sqrt, divide (about 12).
  const uint64_t flops_per = states == 2 ? 12 : states == 1 ? 4 : 2;
  for (uint32_t param : m_param_order) {
    auto g = m_grad_of.find(param);
    if (g == m_grad_of.end()) continue;
    std::vector<uint32_t> reads = {param, g->second}, writes = {param};
    const uint64_t n = m_g.tensors[param].bytes / m_elem;
    for (unsigned s = 0; s < states; ++s) {
      // Optimizer state is kept in fp32 (PyTorch's default for fp32 and AMP training).
      const uint32_t st =
          tensor(m_g.tensors[param].name + ".state" + std::to_string(s), n * 4, TensorRole::optimizer_state);
      reads.push_back(st);
      writes.push_back(st);
    }
    const std::string& pname = m_g.tensors[param].name;
    Op& o = op(pname + ".update", pname.substr(0, pname.rfind('.')), Phase::update, OpKind::optimizer, reads, writes);
    o.elements = n;
    o.flops = n * flops_per;
    o.detail = name;
  }
}

}  // namespace bpsim::workload
