#include <algorithm>
#include <cmath>

#include "sim/core/int_math.h"
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
    : m_net(net),
      m_plan(plan),
      m_g(g),
      m_elem(dtype_bits(net.dtype) / 8),
      m_cur(net.dtype),
      m_amp(net.autocast != Autocast::none),
      m_low(net.autocast == Autocast::fp16 ? DType::fp16 : DType::bf16) {
  if (m_amp) m_node_dtype.assign(plan.nodes.size(), net.dtype);
  // Token ids are int64 in PyTorch; any other input is in the network's dtype.
  const bool tokens = !plan.nodes.empty() && plan.nodes[0].kind == "embedding";
  m_input = tensor("input", net.batch * product(net.input_shape) * (tokens ? 8 : m_elem), TensorRole::input);
  m_params.resize(plan.nodes.size());
  for (size_t i = 0; i < plan.nodes.size(); ++i) params_of(i);
}

uint32_t StepEmitter::tensor(const std::string& name, uint64_t bytes, TensorRole role) {
  const uint32_t id = static_cast<uint32_t>(m_g.tensors.size());
  m_g.tensors.push_back(Tensor{id, name, bytes, role});
  if (m_amp) m_dtype[id] = m_cur;
  return id;
}

DType StepEmitter::dtype_of(uint32_t t) const {
  if (!m_amp) return m_net.dtype;
  auto it = m_dtype.find(t);
  return it != m_dtype.end() ? it->second : m_net.dtype;
}

Op& append_op(OpGraph& g, std::map<uint32_t, uint32_t>& producer, const std::string& name, const std::string& layer,
              Phase ph, OpKind kind, std::vector<uint32_t> reads, std::vector<uint32_t> writes) {
  Op o;
  o.id = static_cast<uint32_t>(g.ops.size());
  o.name = name;
  o.layer = layer;
  o.phase = ph;
  o.kind = kind;
  o.reads = std::move(reads);
  o.writes = std::move(writes);
  for (uint32_t t : o.reads) {
    auto it = producer.find(t);
    if (it != producer.end() && std::find(o.deps.begin(), o.deps.end(), it->second) == o.deps.end())
      o.deps.push_back(it->second);
  }
  for (uint32_t t : o.writes) producer[t] = o.id;
  g.ops.push_back(std::move(o));
  return g.ops.back();
}

Op& StepEmitter::op(const std::string& name, const std::string& layer, Phase ph, OpKind kind,
                    std::vector<uint32_t> reads, std::vector<uint32_t> writes) {
  Op& o = append_op(m_g, m_producer, name, layer, ph, kind, std::move(reads), std::move(writes));
  o.dtype = m_cur;
  return o;
}

void StepEmitter::add_weight(size_t i, uint64_t rows, uint64_t cols) {
  const LayerSpec& l = *m_plan.nodes[i].l;
  const std::string name = l.name + ".weight";
  if (l.weight_format == WeightFormat::dense) {
    const uint32_t t = tensor(name, bytes(rows * cols), TensorRole::weight);
    m_params[i].push_back(t);
    m_param_order.push_back(t);
    return;
  }
  const char* format = config::enum_name(kWeightFormatNames, l.weight_format);
  if (m_amp)
    throw InputError(l.loc, l.name,
                     std::string("weight_format: ") + format +
                         ": autocast's cast copies of a compact weight are not modelled (write autocast: none)");
  // CSR indexes a kept weight's column; a triplet both of its neurons (out row, in column).
  const uint64_t indexed = l.weight_format == WeightFormat::triplet ? std::max(rows, cols) : cols;
  if ((l.weight_format == WeightFormat::csr || l.weight_format == WeightFormat::triplet) &&
      indexed > (uint64_t(1) << l.index_bits))
    throw InputError(l.loc, l.name,
                     "index_bits: " + std::to_string(l.index_bits) + " bits cannot index " + std::to_string(indexed) +
                         " positions of a " + format + " weight of " + std::to_string(rows) + " × " +
                         std::to_string(cols) + " (out × in·kernel²)");
  const CompactWeights w = compact_weights(l.weight_format, rows, cols, l.weight_density, m_elem, l.index_bits);
  const uint32_t t = tensor(name, w.bytes(), TensorRole::weight);
  m_compact[t] = w;
  m_params[i].push_back(t);
  m_param_order.push_back(t);
}

void StepEmitter::mark_compact(Op& o, uint32_t w) const {
  auto it = m_compact.find(w);
  if (it == m_compact.end()) return;
  o.weight_density = double(it->second.kept) / double(it->second.positions);
  o.weight_index_bytes = it->second.index_bytes;
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
  if (n.tied >= 0) {  // the embedding's table, made (and updated) once
    m_params[i].push_back(m_params[size_t(n.tied)][0]);
    if (l.bias) add("bias", l.out_features);
  } else if (n.kind == "linear" || n.kind == "binary_linear") {
    add_weight(i, l.out_features, in_last);
    if (l.bias) add("bias", l.out_features);
  } else if (is_conv(n.kind)) {
    add_weight(i, l.out_features, (n.in_shape[0] / l.groups) * l.kernel * l.kernel);
    if (l.bias) add("bias", l.out_features);
  } else if (n.kind == "layernorm" || n.kind == "batchnorm") {
    const uint64_t features = n.kind == "layernorm" ? in_last : n.in_shape[0];
    add("weight", features);
    add("bias", features);
  } else if (n.kind == "embedding") {
    add("weight", l.vocab * l.out_features);
  } else if (n.kind == "rmsnorm" || n.kind == "class_token") {
    add("weight", in_last);
  } else if (n.kind == "position_embedding" || n.kind == "token_type_embedding") {
    add("weight", (l.vocab ? l.vocab : n.in_shape[0]) * in_last);  // rows 0: one per token
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
  m_cur = m_net.dtype;
  if (m_amp) autocast_node(i, ph, c);
  // Views share their input's storage: flatten, a map's positions read as tokens, and the
  // class token x[:, 0] (a view that keeps the whole input alive for whoever saves it).
  if (n.kind == "flatten" || n.kind == "tokens" || n.kind == "select_token") {
    c.out = c.in[0];
    return;
  }
  if (n.kind == "attention_core") return forward_attention(i, ph, c);
  if (is_binary(n.kind)) return forward_binary(i, ph, c);
  c.out = tensor(l.name + ".out" + tsuf, bytes(out_el), TensorRole::activation);
  std::vector<uint32_t> reads = c.in, writes = {c.out};
  const std::vector<uint32_t>& params = m_amp ? c.params : m_params[i];
  reads.insert(reads.end(), params.begin(), params.end());
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
  } else if (n.kind == "silu") {
    flops = out_el * 4;  // x / (1 + exp(−x))
  } else if (n.kind == "copy" || n.kind == "class_token") {
    flops = 0;  // a contiguous copy; torch.cat of the class token and the tokens
  } else if (n.kind == "token_type_embedding" || (n.kind == "position_embedding" && l.lookup)) {
    // The int64 ids made in the forward (torch.arange(tokens), shared by the batch;
    // torch.zeros_like(ids) for token types), kept by EmbeddingBackward.
    const uint64_t ids = n.kind == "position_embedding" ? n.in_shape[0] : b * n.in_shape[0];
    keep("ids", ids * 8, TensorRole::saved);
    m_elements[c.keep.back()] = ids;
  } else if (n.kind == "rmsnorm") {
    // torch.nn.RMSNorm: fp32 rstd per row kept with the input (PyTorch's fused kernel).
    keep("rstd", in_el / n.in_shape.back() * 4, TensorRole::saved);
    kind = OpKind::normalization;
    flops = out_el * 4;
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
    if (!params.empty()) mark_compact(o, params[0]);
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

AttnDims StepEmitter::attn_dims(size_t i) const {
  const Node& n = m_plan.nodes[i];
  const LayerSpec& l = *n.l;
  AttnDims a;
  a.b = m_net.batch;
  a.s = n.in_shape[0];
  a.heads = l.heads;
  a.kv = l.kv_heads ? l.kv_heads : l.heads;
  a.h = n.out_shape[1];
  a.d = a.h / a.heads;
  return a;
}

QkvSrc StepEmitter::qkv_sources(const NodeCtx& c) {
  if (c.in.size() == 3) return {c.in[0], c.in[1], c.in[2]};
  return {c.in[0], c.in[0], c.in[0]};  // views of the one projection's output
}

void StepEmitter::forward_attention(size_t i, Phase ph, NodeCtx& c) {
  const LayerSpec& l = *m_plan.nodes[i].l;
  const std::string re = ph == Phase::recompute ? ".re" : "";
  if (l.attention == AttnImpl::lsh) return forward_lsh(i, ph, c);
  const AttnDims a = attn_dims(i);
  QkvSrc t = qkv_sources(c);
  if (l.rope) {
    // q·cos + rotate_half(q)·sin, the same for k: new q and k tensors (cos and sin are
    // constants made outside the step). Autograd's multiplies keep only cos and sin.
    auto rope = [&](const char* what, uint32_t src, uint64_t heads) {
      const uint64_t n = a.b * a.s * heads * a.d;
      const uint32_t out = tensor(l.name + "." + what + "_rope" + re, bytes(n), TensorRole::activation);
      Op& o = op(l.name + "." + what + "_rope" + re, l.name, ph, OpKind::elementwise, {src}, {out});
      o.elements = n;
      o.flops = n * 3 + n / 2;  // two multiplies and an add per element; rotate_half negates half
      o.detail = "rope";
      return out;
    };
    t.q = rope("q", t.q, a.heads);
    t.k = rope("k", t.k, a.kv);
  }
  if (l.attention != AttnImpl::explicit_) return forward_sdpa(i, ph, c, t);
  uint32_t src = c.in[0];
  if (l.rope || l.kv_heads || c.in.size() == 3) {
    // torch.matmul copies a [b, heads, s, d] view that is not contiguous (of a projection's
    // output, or the rotated q and k); with grouped-query attention HF's repeat_kv makes
    // the copies of k and v, which matmul keeps as they are. Either way q, k and v each
    // become one b·s·heads·d tensor, saved, and the projections' outputs are not kept.
    const uint64_t n = 3 * a.b * a.s * a.h;
    src = tensor(l.name + ".qkv_copy" + re, bytes(n), TensorRole::activation);
    std::vector<uint32_t> reads = {t.q};
    for (uint32_t x : {t.k, t.v})
      if (std::find(reads.begin(), reads.end(), x) == reads.end()) reads.push_back(x);
    Op& o = op(l.name + ".qkv_copy" + re, l.name, ph, OpKind::elementwise, reads, {src});
    o.elements = n;
    o.detail = a.kv != a.heads ? "repeat_kv" : "contiguous";
  }
  explicit_attention(i, ph, c, src);
  if (src != c.in[0]) c.keep.push_back(src);
}

void StepEmitter::explicit_attention(size_t i, Phase ph, NodeCtx& c, uint32_t src) {
  const LayerSpec& l = *m_plan.nodes[i].l;
  const std::string re = ph == Phase::recompute ? ".re" : "";
  const AttnDims a = attn_dims(i);
  const uint64_t b = a.b, s = a.s, h = a.h, d = a.d;
  const uint64_t probs_el = b * a.heads * s * s;
  uint32_t mask = 0;
  if (l.causal_mask == CausalMask::kept) {
    // torch.ones(s, s, dtype=bool).triu(1) in the block's forward: a new bool tensor that
    // masked_fill_ keeps for its backward.
    mask = tensor(l.name + ".causal_mask" + re, s * s, TensorRole::mask);
    Op& o = op(l.name + ".causal_mask" + re, l.name, ph, OpKind::elementwise, {}, {mask});
    o.elements = s * s;
    o.flops = s * s;
    o.detail = "causal_mask";
  }
  // S = QKᵀ per head; Q, K and V are views of `src` (one base tensor).
  const uint32_t scores = tensor(l.name + ".scores" + re, bytes(probs_el), TensorRole::activation);
  Op& qk = op(l.name + ".scores" + re, l.name, ph, OpKind::gemm, {src}, {scores});
  qk.gemm = GemmDims{s, s, d, b * a.heads};
  qk.macs = qk.gemm.macs();
  qk.detail = "attention_qk";
  // softmax(S/√d) with the causal mask applied in the same kernel: keeps only its output.
  // Under autocast softmax runs in fp32 (fp32_set_opt_dtype): bf16 scores are first converted
  // to an fp32 copy; fp16 ones are read by the kernel itself (half_to_float).
  uint32_t sm_in = scores;
  if (m_amp) {
    if (m_low == DType::bf16)
      sm_in = cast(scores, DType::fp32, l.name + ".scores.fp32" + re, l.name, ph, TensorRole::activation);
    m_cur = DType::fp32;
  }
  const uint32_t probs = tensor(l.name + ".probs" + re, bytes(probs_el), TensorRole::activation);
  std::vector<uint32_t> sm_reads = {sm_in};
  if (mask) sm_reads.push_back(mask);
  Op& sm = op(l.name + ".softmax" + re, l.name, ph, OpKind::softmax, sm_reads, {probs});
  sm.elements = probs_el;
  sm.flops = probs_el * 6;
  sm.detail = l.causal ? "scaled_causal_softmax" : "scaled_softmax";
  c.keep.push_back(probs);
  uint32_t used = probs;
  if (l.p > 0) {
    const uint32_t drop = tensor(l.name + ".drop_mask" + re, probs_el, TensorRole::mask);
    used = tensor(l.name + ".dropped" + re, bytes(probs_el), TensorRole::activation);
    Op& dr = op(l.name + ".dropout" + re, l.name, ph, OpKind::elementwise, {probs}, {used, drop});
    dr.elements = probs_el;
    dr.flops = probs_el;
    dr.detail = "dropout";
    c.keep.push_back(drop);
    c.keep.push_back(used);
  }
  if (mask) c.keep.push_back(mask);
  if (m_amp) {  // P·V is a matmul: autocast casts the fp32 probabilities down, and mm keeps that copy
    m_cur = m_low;
    used = cast(used, m_low, l.name + ".probs." + to_string(m_low) + re, l.name, ph, TensorRole::activation);
    c.keep.push_back(used);
  }
  // O = P·V per head, written with the heads merged back into [tokens, hidden].
  c.out = tensor(l.name + ".out" + re, bytes(b * s * h), TensorRole::activation);
  Op& pv =
      op(l.name + (ph == Phase::recompute ? ".recompute" : ".fwd"), l.name, ph, OpKind::gemm, {used, src}, {c.out});
  pv.gemm = GemmDims{s, d, s, b * a.heads};
  pv.macs = pv.gemm.macs();
  pv.detail = "attention_pv";
}

uint64_t StepEmitter::sdpa_lse_bytes(const LayerSpec& l, const AttnDims& a) {
  // fp32 log-sum-exp per query row. The memory-efficient kernel pads its rows to a multiple
  // of 32 (kAlignLSE in PyTorch's mem-eff attention); flash keeps exactly s.
  const uint64_t rows = l.attention == AttnImpl::mem_efficient ? align_up(a.s, 32) : a.s;
  return a.b * a.heads * rows * 4;
}

void StepEmitter::forward_sdpa(size_t i, Phase ph, NodeCtx& c, const QkvSrc& t) {
  const LayerSpec& l = *m_plan.nodes[i].l;
  const std::string re = ph == Phase::recompute ? ".re" : "";
  const AttnDims a = attn_dims(i);
  const uint64_t probs_el = a.b * a.heads * a.s * a.s;
  // One fused kernel: S = QKᵀ, the online softmax (with the causal mask and dropout's
  // philox RNG inside) and O = P·V tile by tile on chip. Its three steps are three ops so
  // that each GEMM keeps its shape; S and P are never tensors. It keeps q, k, v, the output,
  // the fp32 log-sum-exp and its RNG state.
  // Grouped-query attention (enable_gqa): k and v are read per group, no copies.
  std::vector<uint32_t> qk = {t.q};
  if (t.k != t.q) qk.push_back(t.k);
  Op& s = op(l.name + ".sdpa_qk" + re, l.name, ph, OpKind::gemm, qk, {});
  s.gemm = GemmDims{a.s, a.s, a.d, a.b * a.heads};
  s.macs = s.gemm.macs();
  s.detail = "sdpa_qk";
  const uint32_t lse = tensor(l.name + ".lse" + re, sdpa_lse_bytes(l, a), TensorRole::saved);
  // The dropout RNG state kept for the backward (made even without dropout), as PyTorch 2.11
  // allocates it: flash its rng_state ([2] uint64) and an unused [] uint64 on the device,
  // cuDNN its philox seed and offset ([] int64 each); the memory-efficient kernel keeps its
  // seed and offset on the host.
  std::vector<uint32_t> stats = {lse};
  const std::vector<uint64_t> rng = l.attention == AttnImpl::flash   ? std::vector<uint64_t>{16, 8}
                                    : l.attention == AttnImpl::cudnn ? std::vector<uint64_t>{8, 8}
                                                                     : std::vector<uint64_t>{};
  for (size_t r = 0; r < rng.size(); ++r)
    stats.push_back(tensor(l.name + ".rng" + std::to_string(r) + re, rng[r], TensorRole::saved));
  Op& sm = op(l.name + ".sdpa_softmax" + re, l.name, ph, OpKind::softmax, {}, stats);
  sm.elements = probs_el;
  sm.flops = probs_el * (l.p > 0 ? 7 : 6);  // scale, max, exp, sum, divide (+ dropout)
  sm.detail = "sdpa_softmax";
  c.out = tensor(l.name + ".out" + re, bytes(a.b * a.s * a.h), TensorRole::activation);
  Op& pv = op(l.name + (ph == Phase::recompute ? ".recompute" : ".fwd"), l.name, ph, OpKind::gemm, {t.v, lse}, {c.out});
  pv.gemm = GemmDims{a.s, a.d, a.s, a.b * a.heads};
  pv.macs = pv.gemm.macs();
  pv.detail = "sdpa_pv";
  c.keep = {lse, t.q, t.k, t.v};
  c.keep.insert(c.keep.end(), stats.begin() + 1, stats.end());  // the RNG state last
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
  return it != m_elements.end() ? it->second : m_g.tensors[t].bytes / (dtype_bits(dtype_of(t)) / 8);
}

uint32_t StepEmitter::loss_grad(uint32_t out) {
  if (m_net.loss != Loss::none) return loss_backward(out);  // emit_loss.cpp
  const uint64_t n = elements(out);
  m_cur = dtype_of(out);
  if (m_net.loss_scale) loss_scaling();
  const uint32_t dy = tensor("loss.grad", bytes(n), TensorRole::gradient);
  Op& o = op("loss.bwd", "loss", Phase::backward_data, OpKind::elementwise, {out}, {dy});
  o.elements = n;
  o.flops = n * 4;  // softmax cross-entropy gradient: exp, sum, divide, subtract
  o.detail = "loss_grad";
  return dy;
}

void StepEmitter::update() {
  const Optimizer opt = m_net.optimizer;
  const bool adam = opt == Optimizer::adam || opt == Optimizer::adamw;
  const unsigned states = adam ? 2 : opt == Optimizer::momentum ? 1 : 0;
  const char* name = config::enum_name(kOptimizerNames, opt);
  // Arithmetic per parameter: sgd w -= lr·g (2); momentum adds v = μv + g (4);
  // adam: two moment updates, bias corrections, sqrt, divide (about 12); adamw adds the
  // decoupled decay w -= lr·λ·w (2).
  const uint64_t flops_per = (adam ? 12 : states == 1 ? 4 : 2) + (opt == Optimizer::adamw ? 2 : 0);
  // The state's dtype: fp32 unless the spec says (torch.optim makes it the parameter's).
  const uint64_t state_elem = dtype_bits(m_net.state_dtype) / 8;
  m_cur = m_net.dtype;
  for (uint32_t param : m_param_order) {
    auto g = m_grad_of.find(param);
    if (g == m_grad_of.end()) continue;
    std::vector<uint32_t> reads = {param, g->second}, writes = {param};
    // A compact weight's update touches its kept values only (the index is read with them).
    const auto compact = m_compact.find(param);
    const uint64_t n = compact != m_compact.end() ? compact->second.kept : m_g.tensors[param].bytes / m_elem;
    if (m_net.loss_scale) {
      // GradScaler.unscale_: each gradient times 1/scale in place, checked for inf/NaN
      // (_amp_foreach_non_finite_check_and_unscale_); the step runs when all are finite.
      Op& u = op(m_g.tensors[g->second].name + ".unscale", m_g.tensors[param].name, Phase::update, OpKind::elementwise,
                 {g->second}, {g->second});
      u.elements = n;
      u.flops = 2 * n;
      u.detail = "unscale";
    }
    if (m_net.master_weights) {
      // The fp32 copy the optimizer updates; the parameter is rewritten from it.
      const uint32_t master = tensor(m_g.tensors[param].name + ".master", n * 4, TensorRole::optimizer_state);
      reads.push_back(master);
      writes.push_back(master);
      m_state_of[param].push_back(master);
    }
    for (unsigned s = 0; s < states; ++s) {
      const uint32_t st =
          tensor(m_g.tensors[param].name + ".state" + std::to_string(s), n * state_elem, TensorRole::optimizer_state);
      reads.push_back(st);
      writes.push_back(st);
      m_state_of[param].push_back(st);
    }
    const std::string& pname = m_g.tensors[param].name;
    Op& o = op(pname + ".update", pname.substr(0, pname.rfind('.')), Phase::update, OpKind::optimizer, reads, writes);
    o.elements = n;
    o.flops = n * flops_per;
    o.detail = name;
  }
  // What the compact formats store, against the same weights dense (report.json memory.figures).
  for (const auto& [t, w] : m_compact) {
    m_g.memory.figures["compact_weight_bytes"] += double(w.bytes());
    m_g.memory.figures["compact_index_bytes"] += double(w.index_bytes);
    m_g.memory.figures["compact_dense_weight_bytes"] += double(w.positions * m_elem);
  }
  prune_regrow();
}

// SET's prune and regrow (Mocanu et al. 2018), after the optimizer step of a step that runs
// it, on every weight with weight_density < 1. Per weight of P positions, K kept, z = ⌈ζ·K⌋:
//   prune:  |w| of the K kept (K), a threshold by selection (quickselect, ≈ 2K compares
//           expected) and a compare per kept weight (K): 4K; the z smallest are removed.
//   regrow: z random positions drawn among the free ones and checked against the index (2z);
//           a compact weight's values, index and optimizer state are rewritten around the
//           inserted entries (K elements each), a dense one's z entries set to zero (with
//           their optimizer state).
void StepEmitter::prune_regrow() {
  const PruneRegrowSpec& set = m_net.training.prune_regrow;
  if (!set.on() && set.interval)
    throw InputError("training.prune_regrow: an interval without a fraction; give fraction (ζ) to turn SET on");
  if (!set.on()) return;
  double pruned = 0, flops = 0, layers = 0;
  m_cur = m_net.dtype;
  for (size_t i = 0; i < m_plan.nodes.size(); ++i) {
    const LayerSpec& l = *m_plan.nodes[i].l;
    if ((m_plan.nodes[i].kind != "linear" && !is_conv(m_plan.nodes[i].kind)) || l.weight_density >= 1.0 ||
        m_params[i].empty() || m_plan.nodes[i].tied >= 0)
      continue;
    const uint32_t w = m_params[i][0];
    if (!m_grad_of.count(w)) continue;  // not trained this step (a frozen layer)
    const auto compact = m_compact.find(w);
    const uint64_t positions = compact != m_compact.end() ? compact->second.positions : m_g.tensors[w].bytes / m_elem;
    const uint64_t kept = compact != m_compact.end() ? compact->second.kept : kept_weights(positions, l.weight_density);
    const auto z = uint64_t(std::llround(*set.fraction * double(kept)));
    const std::vector<uint32_t>& state = m_state_of[w];
    Op& p = op(l.name + ".weight.prune", l.name, Phase::update, OpKind::reduction, {w}, {w});
    p.elements = kept;
    p.flops = 4 * kept;
    p.detail = "set_prune";
    std::vector<uint32_t> rw = {w};
    rw.insert(rw.end(), state.begin(), state.end());
    Op& g = op(l.name + ".weight.regrow", l.name, Phase::update, OpKind::elementwise, rw, rw);
    g.elements = compact != m_compact.end() ? kept * (1 + state.size()) : z * (1 + state.size());
    g.flops = 2 * z;
    g.detail = "set_regrow";
    pruned += double(z);
    flops += double(4 * kept + 2 * z);
    layers += 1;
  }
  if (layers == 0)
    throw InputError(
        "training.prune_regrow: no trained linear or conv2d layer has weight_density < 1, so there is "
        "nothing to prune and regrow (give the sparse layers a weight_density)");
  m_g.memory.figures["set_layers"] = layers;
  m_g.memory.figures["set_pruned_per_round"] = pruned;
  m_g.memory.figures["set_flops_per_round"] = flops;
  m_g.memory.figures["set_interval_steps"] = double(set.interval.value_or(1));
}

}  // namespace bpsim::workload
