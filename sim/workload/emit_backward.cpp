#include "sim/workload/emit.h"

#include <algorithm>
#include <cmath>

#include "sim/core/int_math.h"
#include "sim/workload/training_feedback.h"

namespace bpsim::workload {

uint32_t StepEmitter::weight_grad(uint32_t param) {
  // Copies: tensor() appends to m_g.tensors, which may move it.
  const std::string name = m_g.tensors[param].name;
  // A compact weight's gradient holds its kept values only (it shares the weight's index).
  const auto compact = m_compact.find(param);
  const uint64_t param_bytes = compact != m_compact.end() ? compact->second.value_bytes : m_g.tensors[param].bytes;
  const auto had = m_grad_of.find(param);
  if (had != m_grad_of.end()) {
    // A tied weight's second gradient: a temporary that autograd's AccumulateGrad adds into
    // .grad in place once the layer's backward has written it (the grad_accumulate ops at
    // the end of backward()).
    const uint32_t part = tensor(name + ".grad_part", param_bytes, TensorRole::gradient);
    m_pending_accumulate.emplace_back(part, had->second);
    return part;
  }
  if (m_low_params.count(param)) {
    // Autocast: dW in the lower dtype, cast to the parameter's .grad by flush_grad_casts.
    const uint64_t n = param_bytes / m_elem;
    const DType saved = m_cur;
    m_cur = m_low;
    const uint32_t low = tensor(name + ".grad." + to_string(m_low), bytes(n), TensorRole::gradient);
    m_cur = saved;
    m_grad_casts.emplace_back(low, param);
    return low;
  }
  const DType saved = m_cur;
  m_cur = m_net.dtype;  // a parameter's gradient has its dtype (batchnorm's too, under autocast)
  const uint32_t g = tensor(name + ".grad", param_bytes, TensorRole::weight_gradient);
  m_cur = saved;
  m_grad_of[param] = g;
  return g;
}

void StepEmitter::backward(size_t i, const NodeCtx& c, uint32_t dy, std::vector<uint32_t>& grads) {
  const Node& n = m_plan.nodes[i];
  const LayerSpec& l = *n.l;
  const uint64_t in_el = m_net.batch * product(n.in_shape);
  std::vector<uint32_t> gin(n.in.size(), 0);
  auto need = [&](size_t j) { return n.in[j] >= 0 && m_plan.nodes[size_t(n.in[j])].needs_grad; };
  m_cur = m_amp ? m_node_dtype[i] : m_net.dtype;
  if (n.kind == "flatten" || n.kind == "tokens" || n.kind == "copy") {
    gin[0] = dy;  // a view's (or a copy's) gradient is the same storage
  } else if (n.kind == "add") {
    gin = {dy, dy};  // autograd passes the gradient to both summands unchanged
  } else if (n.kind == "mul") {
    // MulBackward: each factor's gradient is dy times the other factor (both kept).
    for (size_t j = 0; j < 2; ++j) {
      if (!need(j)) continue;
      gin[j] = tensor(l.name + ".d" + std::to_string(j), bytes(in_el), TensorRole::gradient);
      Op& o = op(l.name + ".bwd" + std::to_string(j), l.name, Phase::backward_data, OpKind::elementwise,
                 {dy, c.in[1 - j]}, {gin[j]});
      o.elements = in_el;
      o.flops = in_el;
      o.detail = "mul_bwd";
    }
  } else if (n.kind == "class_token" || n.kind == "position_embedding" || n.kind == "token_type_embedding") {
    // The table's gradient sums dy over the batch (and, for the class token, takes row 0);
    // the input's gradient is dy itself or a slice of it (CatBackward narrows, a view).
    std::vector<uint32_t> reads = {dy};
    reads.insert(reads.end(), c.keep.begin(), c.keep.end());  // the looked-up ids
    if (!n.frozen) {
      Op& w =
          op(l.name + ".dw", l.name, Phase::backward_weight, OpKind::reduction, reads, {weight_grad(m_params[i][0])});
      w.elements = m_g.tensors[m_params[i][0]].bytes / m_elem;
      w.flops = n.kind == "class_token" ? m_net.batch * n.in_shape.back() : m_net.batch * product(n.out_shape);
      w.detail = n.kind + "_dw";
    }
    gin[0] = dy;
  } else if (n.kind == "linear" || n.kind == "conv2d" || n.kind == "binary_linear" || n.kind == "binary_conv2d") {
    gin[0] = backward_gemm(i, c, dy, need(0));
  } else if (n.kind == "attention_core") {
    backward_attention(i, c, dy, gin);
  } else if (n.kind == "layernorm" || n.kind == "batchnorm" || n.kind == "rmsnorm") {
    // RMSNorm: no bias, no mean (rstd alone), fewer operations per element.
    const bool rms = n.kind == "rmsnorm";
    const uint32_t stats = c.keep[0];
    if (!n.frozen) {  // a block not updated this step (training.block_update): dX only
      std::vector<uint32_t> gwb = {weight_grad(m_params[i][0])};
      if (!rms) gwb.push_back(weight_grad(m_params[i][1]));
      Op& w = op(l.name + ".dw", l.name, Phase::backward_weight, OpKind::reduction, {dy, c.in[0], stats}, gwb);
      w.elements = in_el;
      w.flops = in_el * (rms ? 3 : 4);
      w.detail = n.kind + "_dw";
    }
    if (need(0)) {
      gin[0] = tensor(l.name + ".dx", bytes(in_el), TensorRole::gradient);
      Op& o = op(l.name + ".bwd", l.name, Phase::backward_data, OpKind::normalization,
                 {dy, c.in[0], m_params[i][0], stats}, {gin[0]});
      o.elements = in_el;
      o.flops = in_el * (rms ? 7 : 10);
      o.detail = n.kind + "_bwd";
    }
  } else if (n.kind == "embedding") {
    // Scatter-add of the output gradient into the table's gradient (indices: the input).
    Op& w = op(l.name + ".dw", l.name, Phase::backward_weight, OpKind::embedding, {dy, c.in[0]},
               {weight_grad(m_params[i][0])});
    w.elements = m_net.batch * product(n.out_shape);
    w.flops = w.elements;
    w.detail = "embedding_dw";
  } else if (need(0)) {
    // ReLU keeps its output, GELU its input, dropout its mask, softmax its output,
    // pools their input (and max-pool its indices): PyTorch's saved tensors. A global
    // average pool keeps nothing: adaptive_avg_pool2d to 1×1 runs as mean() over the map,
    // whose MeanBackward1 keeps only the shape.
    std::vector<uint32_t> reads = {dy};
    if (n.kind == "relu" || n.kind == "softmax") reads.push_back(c.out);
    if (n.kind == "gelu" || n.kind == "silu" || n.kind == "maxpool" || (n.kind == "avgpool" && !l.global))
      reads.push_back(c.in[0]);
    reads.insert(reads.end(), c.keep.begin(), c.keep.end());
    gin[0] = tensor(l.name + ".dx", bytes(in_el), TensorRole::gradient);
    const OpKind kind = n.kind == "softmax"                          ? OpKind::softmax
                        : n.kind == "maxpool" || n.kind == "avgpool" ? OpKind::pool
                                                                     : OpKind::elementwise;
    Op& o = op(l.name + ".bwd", l.name, Phase::backward_data, kind, reads, {gin[0]});
    o.elements = in_el;
    // select_token: SelectBackward scatters dy into zeros of the input's shape.
    o.flops = in_el * (n.kind == "gelu" ? 10 : n.kind == "silu" ? 6 : n.kind == "softmax" ? 3 : 1);
    o.detail = n.kind + "_bwd";
  }
  for (const auto& [part, grad] : m_pending_accumulate) {
    Op& o = op(l.name + ".grad_accumulate", l.name, Phase::backward_weight, OpKind::elementwise, {part, grad}, {grad});
    o.elements = elements(part);
    o.flops = o.elements;
    o.detail = "grad_accumulate";
  }
  m_pending_accumulate.clear();
  if (m_amp) {
    flush_grad_casts(i);
    for (size_t j = 0; j < gin.size(); ++j)
      if (!need(j)) gin[j] = 0;
    uncast_grads(i, c, gin);
  }
  for (size_t j = 0; j < n.in.size(); ++j) {
    if (!gin[j] || !need(j)) continue;
    uint32_t& g = grads[size_t(n.in[j])];
    if (!g) {
      g = gin[j];
      continue;
    }
    // A tensor that fed several nodes: autograd sums the gradients into a new buffer.
    const Node& src = m_plan.nodes[size_t(n.in[j])];
    const uint32_t sum = tensor(src.l->name + ".grad_sum", m_g.tensors[g].bytes, TensorRole::gradient);
    Op& o = op(src.l->name + ".grad_sum" + std::to_string(m_g.ops.size()), src.l->name, Phase::backward_data,
               OpKind::elementwise, {g, gin[j]}, {sum});
    o.elements = elements(g);
    o.flops = o.elements;
    o.detail = "grad_accumulate";
    g = sum;
  }
}

namespace {

/// The needed share of a node's output elements, as the gradient flowing back into it sees
/// them, under the chain of ReLU, dropout, flatten and pooling back to the producing layer.
struct ChainMask {
  double density = 1.0;
  bool relu = false, masked = false;
  /// The output's values are ≥ 0 and zero exactly where the gradient is not needed (after a
  /// ReLU): what lets a max-pool's mask follow from its window's.
  bool zero_where_unneeded = false;
};

/// Mean over a pool's output positions of 1 − (1 − d)^w, w the input elements in the
/// position's window (padding excluded): an output is needed when any element of its
/// window is, the window's masks taken as independent.
double window_density(const Node& n, double d) {
  const LayerSpec& l = *n.l;
  const uint64_t h = n.in_shape[1], w = n.in_shape[2], p = n.out_shape[1], q = n.out_shape[2];
  if (l.global) return 1.0 - std::pow(1.0 - d, double(h * w));
  // Elements of a window along one axis: the kernel's taps that land inside [0, size).
  const auto taps = [&](uint64_t o, uint64_t size) {
    const int64_t first = int64_t(o * l.stride) - int64_t(l.padding);
    return uint64_t(std::max<int64_t>(
        0, std::min<int64_t>(int64_t(size), first + int64_t(l.kernel)) - std::max<int64_t>(0, first)));
  };
  double sum = 0;
  for (uint64_t i = 0; i < p; ++i)
    for (uint64_t j = 0; j < q; ++j) sum += 1.0 - std::pow(1.0 - d, double(taps(i, h) * taps(j, w)));
  return sum / double(p * q);
}

ChainMask chain_mask(const NetPlan& plan, int node) {
  // Each ReLU or dropout multiplies the gradient by a factor that is zero somewhere (ReLU
  // off, element dropped), so an output there feeds nothing: the needed outputs are the AND
  // of the chain's masks, and independent masks multiply their densities. A fork on the way
  // changes nothing (the summed gradient passes the same factors). A pool routes each
  // output's gradient to its window: avg-pool to every element, max-pool to the largest,
  // which is needed whenever any is when the values are zero exactly where unneeded (after
  // a ReLU); so a pooled output is needed when any element of its window is.
  if (node < 0) return {};
  const Node& n = plan.nodes[size_t(node)];
  const int up = n.in.empty() ? -1 : n.in[0];
  if (n.kind == "flatten") return chain_mask(plan, up);  // a view: same elements, same order
  if (n.kind == "relu") {
    ChainMask c = chain_mask(plan, up);
    c.density *= n.l->density;
    c.relu = c.masked = c.zero_where_unneeded = true;
    return c;
  }
  if (n.kind == "dropout") {
    ChainMask c = chain_mask(plan, up);
    c.density *= 1.0 - n.l->p;
    c.masked = c.masked || n.l->p > 0;
    return c;
  }
  if (n.kind == "avgpool" || n.kind == "maxpool") {
    ChainMask c = chain_mask(plan, up);
    if (n.kind == "maxpool" && !c.zero_where_unneeded) return {};
    if (c.masked) c.density = window_density(n, c.density);
    return c;
  }
  // Anything else ends the chain: a GELU's derivative is non-zero almost everywhere;
  // softmax and the norms mix a row (or channel), so every input gradient needs every output
  // one; an add passes the gradient to both summands, needed where either branch needs it
  // (an OR, not taken); a weight layer is the producer the chain leads back to.
  return {};
}

}  // namespace

OutputMask StepEmitter::activation_chain_mask(int node) const {
  const ChainMask c = chain_mask(m_plan, node);
  OutputMask m;
  if (c.masked) {
    m.source = c.relu ? OutputMask::Source::relu : OutputMask::Source::random;
    m.density = c.density;
  }
  return m;
}

uint32_t StepEmitter::feedback_matrix(const std::string& layer, uint64_t n, bool binary) {
  const FeedbackSpec& fb = m_net.training.feedback;
  // By default B is what the backward would read: W's signs in a binary layer (a fixed
  // random sign matrix, then), otherwise the dtype the dX computes in.
  const uint64_t b = feedback_bytes(n, fb.dtype.value_or(binary ? DType::binary : m_cur));
  if (fb.storage == FeedbackStorage::stored) return tensor(layer + ".feedback", b, TensorRole::weight);
  // Regenerated: drawn from the layer's seed into a workspace that the dX alone reads.
  const uint32_t t = tensor(layer + ".feedback", b, TensorRole::workspace);
  Op& o = op(layer + ".feedback_gen", layer, Phase::backward_data, OpKind::elementwise, {}, {t});
  o.elements = n;
  o.flops = n * kFeedbackRngOpsPerElement;
  o.detail = "feedback_gen";
  return t;
}

uint32_t StepEmitter::backward_gemm(size_t i, const NodeCtx& c, uint32_t dy, bool need_dx) {
  const Node& n = m_plan.nodes[i];
  const LayerSpec& l = *n.l;
  const bool conv = n.kind == "conv2d" || n.kind == "binary_conv2d";
  const bool binary = n.kind == "binary_linear" || n.kind == "binary_conv2d";
  const OpKind kind = conv ? OpKind::conv : OpKind::gemm;
  const GemmDims f = forward_dims(i);  // Y[M×N] = X[M×K]·W[K×N]
  const ConvShape cs = conv ? conv_shape(i) : ConvShape{};
  // Binary layers: the weight and input signs; their products with the real-valued
  // gradient are signed additions, still GEMM-shaped (Courbariaux/Hubara 2016).
  const uint32_t w = binary ? c.keep[2] : m_amp ? c.params[0] : m_params[i][0], x = binary ? c.keep[0] : c.in[0];
  uint32_t dx = 0;
  if (need_dx) {
    const uint64_t in_el = m_net.batch * product(n.in_shape);
    // dX = dY·Wᵀ: [M×N]·[N×K] (conv: in column form, then col2im; per group).
    const GemmDims own = conv ? GemmDims{f.m, cs.c * cs.r * cs.s, f.n / cs.groups, 1} : GemmDims{f.m, f.k, f.n, 1};
    const FeedbackSpec& fb = m_net.training.feedback;
    const bool dfa = fb.kind == FeedbackKind::dfa;
    uint32_t src = dy, mat = w;
    GemmDims gemm = own;
    if (fb.kind != FeedbackKind::backprop) {  // the error through B (training_feedback.h)
      const uint64_t err_el = elements(m_error) / m_net.batch;
      const FeedbackGemm fg =
          feedback_gemm(fb, own, m_g.tensors[m_params[i][0]].bytes / m_elem, m_net.batch, in_el / m_net.batch, err_el);
      gemm = fg.gemm;
      if (dfa) src = m_error;
      mat = feedback_matrix(l.name, fg.b_elements, binary);
    }
    dx = tensor(l.name + ".dx", bytes(in_el), TensorRole::gradient);
    Op& o = op(l.name + ".dx", l.name, Phase::backward_data, dfa ? OpKind::gemm : kind, {src, mat}, {dx});
    o.gemm = gemm;
    if (!dfa) o.conv = cs;  // DFA's B is dense over the flattened input: a plain GEMM
    o.macs = o.gemm.macs();
    o.detail = n.kind + (dfa ? "_dx_dfa" : "_dx");
    o.out_mask = activation_chain_mask(n.in[0]);
    mark_compact(o, w);
    if (binary) {  // straight-through estimator: pass the gradient where |x| ≤ 1
      const uint32_t real = tensor(l.name + ".dx_ste", bytes(in_el), TensorRole::gradient);
      Op& s = op(l.name + ".ste", l.name, Phase::backward_data, OpKind::elementwise, {dx, c.keep[1]}, {real});
      s.elements = in_el;
      s.flops = in_el;
      s.detail = "ste_bwd";
      dx = real;
    }
  }
  // dW = Xᵀ·dY: [K×M]·[M×N] (conv: X in column form). ConvolutionBackward keeps the weight
  // whichever gradients it computes: under autocast its cast copy lives to here, dX or not.
  if (n.frozen) return dx;  // a block not updated this step (training.block_update): dX only
  std::vector<uint32_t> dw_reads = {x, dy};
  if (m_amp && conv && !need_dx) dw_reads.push_back(w);
  std::vector<uint32_t> grads = {weight_grad(m_params[i][0])};
  Op& wg = op(l.name + ".dw", l.name, Phase::backward_weight, kind, dw_reads, {grads[0]});
  wg.gemm = GemmDims{f.k, f.n, f.m, 1};
  wg.conv = cs;
  wg.macs = wg.gemm.macs();
  wg.detail = n.kind + "_dw";
  if (l.weight_density < 1.0) {
    wg.out_mask.source = OutputMask::Source::pruned;
    wg.out_mask.density = l.weight_density;
  }
  if (l.bias) {
    grads.push_back(weight_grad(m_params[i][1]));
    Op& r = op(l.name + ".db", l.name, Phase::backward_weight, OpKind::reduction, {dy}, {grads.back()});
    r.elements = l.out_features;
    r.flops = f.m * f.n;
    r.detail = "bias_grad";
  }
  if (m_net.training.newton.kind != NewtonKind::none) kfac(i, x, dy, f, grads);  // training_newton.cpp
  return dx;
}

void StepEmitter::backward_attention(size_t i, const NodeCtx& c, uint32_t dy, std::vector<uint32_t>& gin) {
  const LayerSpec& l = *m_plan.nodes[i].l;
  const bool separate = c.in.size() == 3;
  if (l.attention == AttnImpl::lsh) return backward_lsh(i, c, dy, gin);
  if (l.attention == AttnImpl::explicit_ && !l.rope && !l.kv_heads && !separate) {
    gin[0] = explicit_attention_bwd(i, c, dy, c.in[0], ".dqkv");
    return;
  }
  const AttnDims a = attn_dims(i);
  QkvSrc g;  // the gradients of q, k and v as the attention hands them back
  if (l.attention != AttnImpl::explicit_) {
    g = backward_sdpa(i, c, dy);
  } else {
    // The copies' gradients (one b·s·3h tensor) pass to q, k and v unchanged, except
    // repeat_kv's: its expand's gradient is summed over each group's heads.
    g.q = g.k = g.v = explicit_attention_bwd(i, c, dy, c.keep.back(), ".dqkv_copy");
    if (a.kv != a.heads) {
      const uint64_t n = a.b * a.s * a.kv * a.d;
      g.k = tensor(l.name + ".dk_grouped", bytes(n), TensorRole::gradient);
      g.v = tensor(l.name + ".dv_grouped", bytes(n), TensorRole::gradient);
      Op& o = op(l.name + ".repeat_kv_bwd", l.name, Phase::backward_data, OpKind::reduction, {g.q}, {g.k, g.v});
      o.elements = 2 * n;
      o.flops = 2 * a.b * a.s * a.h;
      o.detail = "repeat_kv_bwd";
    }
  }
  if (l.rope) {
    // dq = dq_rot·cos + rotate_halfᵀ(dq_rot·sin), the same for k (the multiplies' saved
    // cos and sin): new tensors.
    auto rope = [&](const char* what, uint32_t grad, uint64_t heads) {
      const uint64_t n = a.b * a.s * heads * a.d;
      const uint32_t out = tensor(l.name + ".d" + what + "_rope", bytes(n), TensorRole::gradient);
      Op& o = op(l.name + "." + what + "_rope_bwd", l.name, Phase::backward_data, OpKind::elementwise, {grad}, {out});
      o.elements = n;
      o.flops = n * 3 + n / 2;
      o.detail = "rope_bwd";
      return out;
    };
    g.q = rope("q", g.q, a.heads);
    g.k = rope("k", g.k, a.kv);
  }
  if (separate) {
    gin = {g.q, g.k, g.v};
    return;
  }
  // q, k and v were views of one projection's output: the backward of that split
  // concatenates their gradients into a new tensor.
  std::vector<uint32_t> parts = {g.q};
  for (uint32_t x : {g.k, g.v})
    if (std::find(parts.begin(), parts.end(), x) == parts.end()) parts.push_back(x);
  const uint64_t n = a.b * a.s * (a.heads + 2 * a.kv) * a.d;
  gin[0] = tensor(l.name + ".dqkv", bytes(n), TensorRole::gradient);
  Op& o = op(l.name + ".dqkv", l.name, Phase::backward_data, OpKind::elementwise, parts, {gin[0]});
  o.elements = n;
  o.detail = "split_bwd";
}

uint32_t StepEmitter::explicit_attention_bwd(size_t i, const NodeCtx& c, uint32_t dy, uint32_t src,
                                             const std::string& grad_name) {
  const Node& n = m_plan.nodes[i];
  const LayerSpec& l = *n.l;
  const AttnDims a = attn_dims(i);
  const uint64_t b = a.b, s = a.s, h = a.h, d = a.d;
  const uint64_t probs_el = b * a.heads * s * s;
  const uint32_t probs = c.keep[0], used = m_amp ? c.keep.back() : l.p > 0 ? c.keep[2] : probs;
  auto gemm = [&](const std::string& what, std::vector<uint32_t> reads, uint32_t out, GemmDims g) {
    Op& o = op(l.name + "." + what, l.name, Phase::backward_data, OpKind::gemm, std::move(reads), {out});
    o.gemm = g;
    o.macs = g.macs();
    o.detail = "attention_" + what;
  };
  auto elementwise = [&](const std::string& what, OpKind kind, std::vector<uint32_t> reads,
                         std::vector<uint32_t> writes) {
    Op& o = op(l.name + "." + what, l.name, Phase::backward_data, kind, std::move(reads), std::move(writes));
    o.elements = probs_el;
    o.flops = probs_el * 3;
    o.detail = "attention_" + what;
  };
  // dQ, dK and dV land in one gradient buffer of the QKV projection's output (or its copy).
  const uint32_t dqkv = tensor(l.name + grad_name, bytes(b * s * 3 * h), TensorRole::gradient);
  gemm("dv", {used, dy}, dqkv, GemmDims{s, d, s, b * a.heads});  // dV = Pᵀ·dO
  uint32_t dp = tensor(l.name + ".dprobs", bytes(probs_el), TensorRole::gradient);
  gemm("dp", {dy, src}, dp, GemmDims{s, s, d, b * a.heads});  // dP = dO·Vᵀ
  if (m_amp) {  // autocast: back through the cast of P to the fp32 softmax (and dropout)
    dp = cast(dp, DType::fp32, l.name + ".dprobs.fp32", l.name, Phase::backward_data, TensorRole::gradient);
    m_cur = DType::fp32;
  }
  if (l.p > 0) {
    const uint32_t undropped = tensor(l.name + ".dprobs_in", bytes(probs_el), TensorRole::gradient);
    elementwise("dropout_bwd", OpKind::elementwise, {dp, c.keep[1]}, {undropped});
    dp = undropped;
  }
  // Autocast fp16: the half-to-float softmax's backward gives dS in fp16 directly.
  if (m_amp && m_low == DType::fp16) m_cur = m_low;
  uint32_t ds = tensor(l.name + ".dscores", bytes(probs_el), TensorRole::gradient);
  std::vector<uint32_t> sm_reads = {dp, probs};
  if (l.causal_mask == CausalMask::kept) sm_reads.push_back(c.keep[l.p > 0 ? 3 : 1]);  // masked_fill's mask
  elementwise("softmax_bwd", OpKind::softmax, sm_reads, {ds});  // dS = P⊙(dP − rowsum(dP⊙P))
  if (m_amp && m_cur != m_low) {                                // bf16: back through the scores' fp32 copy
    ds = cast(ds, m_low, l.name + ".dscores." + std::string(to_string(m_low)), l.name, Phase::backward_data,
              TensorRole::gradient);
    m_cur = m_low;
  }
  gemm("dq", {ds, src}, dqkv, GemmDims{s, d, s, b * a.heads});  // dQ = dS·K/√d
  gemm("dk", {ds, src}, dqkv, GemmDims{s, d, s, b * a.heads});  // dK = dSᵀ·Q/√d
  return dqkv;
}

QkvSrc StepEmitter::backward_sdpa(size_t i, const NodeCtx& c, uint32_t dy) {
  const LayerSpec& l = *m_plan.nodes[i].l;
  const AttnDims a = attn_dims(i);
  const uint64_t b = a.b, s = a.s, d = a.d, bh = b * a.heads, probs_el = bh * s * s;
  const bool flash = l.attention == AttnImpl::flash;
  const uint32_t lse = c.keep[0], q = c.keep[1], k = c.keep[2], v = c.keep[3];
  const std::string pre = l.name + ".sdpa_bwd_";
  auto gemm = [&](const std::string& what, std::vector<uint32_t> reads, std::vector<uint32_t> writes, GemmDims g) {
    Op& o = op(pre + what, l.name, Phase::backward_data, OpKind::gemm, std::move(reads), std::move(writes));
    o.gemm = g;
    o.macs = g.macs();
    o.detail = "sdpa_bwd_" + what;
  };
  // The kernel's fp32 workspaces, alive while it runs. Flash (PyTorch's FlashAttention-2):
  // D = rowsum(dO⊙O) per row, s rounded up to 128, and the dQ accumulator [b, s rounded to
  // 128, heads, d rounded to 32 (64 past d = 128)], both made by its first pass.
  // Memory-efficient: D per row, s rounded to 32 as its log-sum-exp.
  const uint64_t rows = flash ? align_up(s, 128) : align_up(s, 32);
  std::vector<uint32_t> ws = {tensor(l.name + ".sdpa_delta", bh * rows * 4, TensorRole::workspace)};
  if (flash)
    ws.push_back(tensor(l.name + ".sdpa_dq_accum", b * rows * a.heads * align_up(d, d <= 128 ? 32 : 64) * 4,
                        TensorRole::workspace));
  Op& delta = op(pre + "delta", l.name, Phase::backward_data, OpKind::reduction, {dy, c.out}, ws);
  delta.elements = bh * s;
  delta.flops = 2 * b * s * a.h;
  delta.detail = "sdpa_bwd_delta";
  // dq, dk and dv as the kernel writes them, new tensors. With grouped query heads it
  // writes dk and dv per query head, then sums each group's.
  QkvSrc g;
  g.q = tensor(l.name + ".dq", bytes(b * s * a.h), TensorRole::gradient);
  g.k = tensor(l.name + ".dk", bytes(b * s * a.kv * d), TensorRole::gradient);
  g.v = tensor(l.name + ".dv", bytes(b * s * a.kv * d), TensorRole::gradient);
  uint32_t dk = g.k, dv = g.v;
  if (a.kv != a.heads) {
    dk = tensor(l.name + ".sdpa_dk_expanded", bytes(b * s * a.h), TensorRole::workspace);
    dv = tensor(l.name + ".sdpa_dv_expanded", bytes(b * s * a.h), TensorRole::workspace);
  }
  // P recomputed from q, k and the log-sum-exp, then four GEMMs: five s×s×d GEMMs per
  // head against the forward's two (2.5×).
  std::vector<uint32_t> qk_reads = {q, k, lse};
  qk_reads.insert(qk_reads.end(), c.keep.begin() + 4, c.keep.end());  // the RNG state: the dropout mask again
  gemm("qk", qk_reads, {}, GemmDims{s, s, d, bh});                    // S = QKᵀ again
  gemm("dv", {dy}, {dv}, GemmDims{s, d, s, bh});                      // dV = Pᵀ·dO
  gemm("dp", {dy, v}, {}, GemmDims{s, s, d, bh});                     // dP = dO·Vᵀ
  Op& ds = op(pre + "ds", l.name, Phase::backward_data, OpKind::softmax, {ws[0]}, {});
  ds.elements = probs_el;
  ds.flops = probs_el * (l.p > 0 ? 6 : 5);  // exp(S − lse), dS = P⊙(dP − D) (+ dropout's mask)
  ds.detail = "sdpa_bwd_ds";
  std::vector<uint32_t> dq_reads = {k};
  if (flash) dq_reads.push_back(ws[1]);
  gemm("dq", dq_reads, {g.q}, GemmDims{s, d, s, bh});  // dQ = dS·K
  gemm("dk", {q}, {dk}, GemmDims{s, d, s, bh});        // dK = dSᵀ·Q
  if (dk != g.k) {
    Op& o = op(pre + "dkv_sum", l.name, Phase::backward_data, OpKind::reduction, {dk, dv}, {g.k, g.v});
    o.elements = 2 * b * s * a.kv * d;
    o.flops = 2 * b * s * a.h;
    o.detail = "sdpa_bwd_dkv_sum";
  }
  return g;
}

}  // namespace bpsim::workload
