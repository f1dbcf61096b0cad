// Mixed precision in the step: torch.autocast's casts (forward and their backward), the
// low-precision weight gradients cast to the fp32 .grad, and GradScaler's ops.
// docs/workloads.md, "Mixed precision and optimizer state", gives each rule with its origin.
#include <set>
#include <string>

#include "sim/core/error.h"
#include "sim/workload/emit.h"

namespace bpsim::workload {

namespace {

/// What autocast does with an op (PyTorch's CUDA op lists, aten/src/ATen/autocast_mode.cpp).
enum class AmpClass {
  lower,        ///< lower_precision_fp: linear, conv, matmul: inputs and weights cast down
  fp32,         ///< fp32 (layer_norm) and fp32_set_opt_dtype (softmax): inputs cast up
  promote,      ///< not listed, several inputs: type promotion, the widest dtype
  weight,       ///< not listed, runs in its weight's dtype (embedding: a gather from the table)
  passthrough,  ///< not listed: runs in its input's dtype (relu, gelu, dropout, pools, batchnorm)
};

AmpClass amp_class(const std::string& kind) {
  if (kind == "linear" || kind == "conv2d" || kind == "attention_core") return AmpClass::lower;
  if (kind == "layernorm" || kind == "softmax") return AmpClass::fp32;
  if (kind == "add") return AmpClass::promote;
  if (kind == "class_token") return AmpClass::fp32;
  if (kind == "embedding" || kind == "position_embedding") return AmpClass::weight;
  return AmpClass::passthrough;
}

unsigned width(DType d) { return dtype_bits(d); }

}  // namespace

uint32_t StepEmitter::cast(uint32_t t, DType to, const std::string& name, const std::string& layer, Phase ph,
                           TensorRole role, uint64_t part) {
  const uint64_t n = part ? part : elements(t);
  const DType saved = m_cur;
  m_cur = to;
  const uint32_t out = tensor(name, bytes(n), role);
  Op& o = op(name, layer, ph, OpKind::elementwise, {t}, {out});
  o.elements = n;
  o.flops = n;  // one conversion per element
  o.detail = "cast";
  m_cur = saved;
  return out;
}

void StepEmitter::autocast_node(size_t i, Phase ph, NodeCtx& c) {
  const Node& n = m_plan.nodes[i];
  const LayerSpec& l = *n.l;
  if (n.kind == "binary_linear" || n.kind == "binary_conv2d")
    throw InputError(l.loc, l.name, "autocast: binary layers have no autocast rule (write autocast: none)");
  // The kinds whose autocast behaviour was checked against PyTorch (docs/workloads.md "Mixed
  // precision"; ViT-B/16's token layers against its saved tensors); a newer kind (RMSNorm, SiLU,
  // the SwiGLU product, BERT's token-type embedding, rotary or grouped-query attention) is
  // refused until its rule is measured, never guessed.
  static const std::set<std::string> checked = {"linear",
                                                "conv2d",
                                                "attention_core",
                                                "layernorm",
                                                "softmax",
                                                "add",
                                                "embedding",
                                                "relu",
                                                "gelu",
                                                "dropout",
                                                "flatten",
                                                "maxpool",
                                                "avgpool",
                                                "batchnorm",
                                                "tokens",
                                                "class_token",
                                                "position_embedding",
                                                "select_token",
                                                "copy"};
  if (!checked.count(n.kind) ||
      (n.kind == "attention_core" && (l.rope || l.kv_heads || !l.body.empty() || l.attention == AttnImpl::lsh)))
    throw InputError(l.loc, l.name,
                     "autocast: no autocast rule is modelled yet for this layer (" + n.kind +
                         (n.kind == "attention_core" ? " with rope, kv_heads, separate projections or lsh" : "") +
                         "); write autocast: none");
  const std::string re = ph == Phase::recompute ? ".re" : "";
  const AmpClass k = amp_class(n.kind);
  DType want = dtype_of(c.in[0]);
  if (k == AmpClass::lower) want = m_low;
  if (k == AmpClass::fp32 || k == AmpClass::weight) want = DType::fp32;
  if (k == AmpClass::promote)
    for (uint32_t t : c.in)
      if (width(dtype_of(t)) > width(want)) want = dtype_of(t);
  c.uncast = c.in;
  c.params = m_params[i];
  // A node reading a view of part of its producer's output (select_token's x[:, 0]) casts
  // only what it reads: its input shape, not the whole storage.
  const uint64_t viewed = m_net.batch * product(n.in_shape);
  if (k == AmpClass::lower || k == AmpClass::fp32)
    for (size_t j = 0; j < c.in.size(); ++j)
      if (dtype_of(c.in[j]) != want)
        c.in[j] =
            cast(c.in[j], want, l.name + ".in" + (j ? std::to_string(j) : "") + "." + to_string(want) + re, l.name, ph,
                 TensorRole::activation, j == 0 && c.in.size() == 1 && viewed < elements(c.in[0]) ? viewed : 0);
  // The weight copies: autocast caches one per parameter for the autocast region, and
  // autograd keeps the weight's (mm saves it for dX); the bias copy is read by the forward only.
  if (k == AmpClass::lower)
    for (uint32_t& p : c.params) {
      m_low_params.insert(p);
      p = cast(p, m_low, m_g.tensors[p].name + "." + to_string(m_low) + re, l.name, ph, TensorRole::saved);
    }
  m_cur = want;
  m_node_dtype[i] = want;
}

void StepEmitter::uncast_grads(size_t i, const NodeCtx& c, std::vector<uint32_t>& gin) {
  const Node& n = m_plan.nodes[i];
  for (size_t j = 0; j < gin.size() && j < c.uncast.size(); ++j) {
    if (!gin[j]) continue;
    const DType to = dtype_of(c.uncast[j]);
    // The engine casts each input gradient to its input's dtype (ToCopyBackward of a cast;
    // for a promoting add, the engine's own cast of the gradient to the summand's dtype).
    if (dtype_of(gin[j]) != to)
      gin[j] = cast(gin[j], to, n.l->name + ".dx" + (j ? std::to_string(j) : "") + "." + to_string(to), n.l->name,
                    Phase::backward_data, TensorRole::gradient);
  }
}

void StepEmitter::flush_grad_casts(size_t i) {
  for (const auto& [low, param] : m_grad_casts) {
    // Copies: tensor() appends to m_g.tensors, which may move it.
    const std::string name = m_g.tensors[param].name;
    const uint64_t bytes_of = m_g.tensors[param].bytes;
    const DType saved = m_cur;
    m_cur = m_net.dtype;
    const uint32_t g = tensor(name + ".grad", bytes_of, TensorRole::weight_gradient);
    m_cur = saved;
    Op& o = op(name + ".grad_cast", m_plan.nodes[i].l->name, Phase::backward_weight, OpKind::elementwise, {low}, {g});
    o.elements = bytes_of / m_elem;
    o.flops = o.elements;
    o.detail = "cast";
    m_grad_of[param] = g;
  }
  m_grad_casts.clear();
}

void StepEmitter::loss_scaling() {
  // GradScaler.scale(loss): one multiply of the scalar loss; its backward seeds the graph
  // with the scale instead of 1. No tensor beyond scalars.
  Op& o = op("loss.scale", "loss", Phase::backward_data, OpKind::elementwise, {}, {});
  o.elements = 1;
  o.flops = 1;
  o.detail = "loss_scale";
}

}  // namespace bpsim::workload
