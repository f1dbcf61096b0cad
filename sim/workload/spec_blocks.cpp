#include "sim/workload/spec_blocks.h"

namespace bpsim::workload {

namespace {

LayerSpec prim(const LayerSpec& parent, const std::string& kind, const std::string& suffix) {
  LayerSpec l;
  l.kind = kind;
  l.name = parent.name + "." + suffix;
  l.loc = parent.loc;
  return l;
}

LayerSpec linear(const LayerSpec& parent, const std::string& suffix, uint64_t out) {
  LayerSpec l = prim(parent, "linear", suffix);
  l.out_features = out;
  return l;
}

LayerSpec dropout(const LayerSpec& parent, const std::string& suffix, double p) {
  LayerSpec l = prim(parent, "dropout", suffix);
  l.p = p;
  return l;
}

LayerSpec conv(const LayerSpec& parent, const std::string& suffix, uint64_t out, uint64_t k, uint64_t stride) {
  LayerSpec l = prim(parent, "conv2d", suffix);
  l.out_features = out;
  l.kernel = k;
  l.stride = stride;
  l.padding = k / 2;
  l.bias = false;  // followed by batchnorm, as in torchvision
  return l;
}

LayerSpec relu(const LayerSpec& parent, const std::string& suffix, double density) {
  LayerSpec l = prim(parent, "relu", suffix);
  l.density = density;
  return l;
}

}  // namespace

void attention_keys(config::Binder<LayerParams>& s, const char* impl, bool rope, const char* qkv) {
  s.choice("attention", &LayerParams::attention, kAttnImplNames,
           "how softmax(QKᵀ/√d)·V runs: explicit ops (keeps the s×s probabilities), or PyTorch's fused "
           "scaled-dot-product kernel flash, mem_efficient or cudnn (keeps the output and a log-sum-exp per row), "
           "or lsh: Reformer's shared-QK attention within sorted hash-bucket chunks (docs/techniques.md)")
      .def(impl);
  s.choice("causal_mask", &LayerParams::causal_mask, kCausalMaskNames,
           "explicit causal attention's mask: none (a buffer made outside the step) or kept (a bool s×s tensor "
           "built in each forward and kept by masked_fill)")
      .def("none");
  s.integer("kv_heads", &LayerParams::kv_heads, "",
            "key/value heads, grouped-query attention (heads must divide by it; default: heads)")
      .range(1, 1 << 16);
  s.boolean("rope", &LayerParams::rope, "rotary position embedding on q and k").def(rope);
  s.choice("qkv", &LayerParams::qkv, kQkvProjectionNames,
           "q, k and v from one projection (fused, GPT-2) or three (separate, Llama/BERT): with rotary "
           "embeddings or fused attention, what stays saved differs")
      .def(qkv);
  s.integer("bucket_size", &LayerParams::bucket_size, "",
            "lsh attention: chunk length c; each query attends to its chunk and the one before (2c keys), "
            "tokens / c hash buckets")
      .def(64)
      .range(1, int64_t(1) << 20);
  s.integer("rounds", &LayerParams::rounds, "", "lsh attention: hash rounds (Reformer's n_hashes)").def(1).range(1, 64);
}

AttentionSpec attention_spec(const LayerParams& q, const config::Values& v) {
  AttentionSpec a;
  a.hidden = q.hidden;
  a.heads = q.heads;
  if (a.hidden % a.heads)
    throw v.error("heads",
                  "hidden " + std::to_string(a.hidden) + " does not divide by " + std::to_string(a.heads) + " heads");
  a.kv_heads = q.kv_heads.value_or(a.heads);
  if (a.heads % a.kv_heads)
    throw v.error("kv_heads", std::to_string(a.heads) + " heads do not divide into " + std::to_string(a.kv_heads) +
                                  " key/value groups (kv_heads must divide heads)");
  if (a.kv_heads == a.heads) a.kv_heads = 0;
  a.causal = q.causal;
  a.dropout = q.dropout;
  a.impl = q.attention;
  a.causal_mask = q.causal_mask;
  a.rope = q.rope;
  a.qkv = q.qkv;
  const uint64_t d = a.hidden / a.heads;
  if (a.causal_mask == CausalMask::kept && (a.impl != AttnImpl::explicit_ || !a.causal))
    throw v.error("causal_mask",
                  "a kept mask belongs to explicit causal attention (attention: explicit, causal: true); "
                  "the fused kernels apply causality inside, without a mask tensor");
  // PyTorch's SDPA pads other head sizes to a multiple of 8 (copies of q, k, v it keeps) or,
  // for flash past 256, picks another kernel: not modelled, so refused.
  // cuDNN's kernels take head dimensions up to 128 on the GPUs PyTorch 2.11 picks them for.
  const uint64_t max_d = a.impl == AttnImpl::flash ? 256 : a.impl == AttnImpl::cudnn ? 128 : 0;
  if (a.impl != AttnImpl::explicit_ && a.impl != AttnImpl::lsh && (d % 8 || (max_d && d > max_d)))
    throw v.error("attention", std::string(config::enum_name(kAttnImplNames, a.impl)) + " attention needs a head " +
                                   "dimension (hidden/heads = " + std::to_string(d) + ") that is a multiple of 8" +
                                   (max_d ? " and at most " + std::to_string(max_d) : std::string()));
  if (a.rope && d % 2) throw v.error("rope", "rotary embedding needs an even head dimension, not " + std::to_string(d));
  a.bucket_size = q.bucket_size;
  a.rounds = q.rounds;
  if (a.impl == AttnImpl::lsh) {
    // Reformer's LSH attention shares one projection for queries and keys: q and v come from
    // one fused projection; rotary embeddings and key/value groups are not part of it.
    if (a.rope) throw v.error("rope", "lsh attention (Reformer) is modelled without rotary embeddings: rope: false");
    if (a.kv_heads)
      throw v.error("kv_heads", "lsh attention shares queries and keys (shared-QK): key/value groups do not apply");
    if (a.qkv != QkvProjection::fused)
      throw v.error("qkv", "lsh attention takes q and v from one fused projection (shared-QK): qkv: fused");
  }
  return a;
}

void append_attention(const LayerSpec& parent, const AttentionSpec& a, std::vector<LayerSpec>& out) {
  const uint64_t d = a.hidden / a.heads, kv = a.kv_heads ? a.kv_heads : a.heads;
  // q, k and v from one projection, or three reading the same input (the attention's body);
  // with grouped-query attention k and v are kv_heads·d wide.
  std::vector<LayerSpec> proj3;
  if (a.impl == AttnImpl::lsh) {  // shared-QK: one projection gives the queries (also the keys) and the values
    out.push_back(linear(parent, "qkv", 2 * a.heads * d));
    out.back().bias = a.bias;
  } else if (a.qkv == QkvProjection::fused) {
    out.push_back(linear(parent, "qkv", (a.heads + 2 * kv) * d));
    out.back().bias = a.bias;
  } else {
    for (const auto& [name, width] : {std::pair{"q", a.heads * d}, std::pair{"k", kv * d}, std::pair{"v", kv * d}}) {
      proj3.push_back(linear(parent, name, width));
      proj3.back().bias = a.bias;
    }
  }
  LayerSpec core = prim(parent, "attention_core", "attn");
  core.heads = a.heads;
  core.kv_heads = a.kv_heads;
  core.causal = a.causal;
  core.p = a.dropout;
  core.attention = a.impl;
  core.causal_mask = a.causal_mask;
  core.rope = a.rope;
  core.bucket_size = a.bucket_size;
  core.rounds = a.rounds;
  core.body = std::move(proj3);
  out.push_back(core);
  LayerSpec proj = linear(parent, "proj", a.hidden);
  proj.bias = a.bias;
  out.push_back(proj);
}

std::vector<LayerSpec> projection_shortcut(const LayerSpec& residual, uint64_t channels, uint64_t stride) {
  LayerSpec c = conv(residual, "down.conv", channels, 1, stride);
  c.padding = 0;
  return {c, prim(residual, "batchnorm", "down.bn")};
}

LayerSpec expand_block(const LayerParams& q, const config::Values& v, const LayerSpec& l) {
  LayerSpec seq = l;
  seq.kind = "sequence";
  if (l.kind == "attention" || l.kind == "transformer_block") {
    const AttentionSpec att = attention_spec(q, v);
    const uint64_t h = q.hidden;
    const double p = q.dropout;
    seq.hidden = h;
    if (l.kind == "attention") {
      append_attention(l, att, seq.body);
      return seq;
    }
    // GPT-2 style pre-LayerNorm block: x + Drop(Proj(Attn(LN(x)))), then
    // x + Drop(FC2(GELU(FC1(LN(x))))). Dropout 0 leaves the dropout layers out.
    LayerSpec r1 = prim(l, "residual", "res1");
    r1.body.push_back(prim(l, "layernorm", "ln1"));
    append_attention(l, att, r1.body);
    if (p > 0) r1.body.push_back(dropout(l, "drop1", p));
    LayerSpec r2 = prim(l, "residual", "res2");
    r2.body.push_back(prim(l, "layernorm", "ln2"));
    r2.body.push_back(linear(l, "fc1", q.mlp_ratio * h));
    r2.body.push_back(prim(l, "gelu", "gelu"));
    r2.body.push_back(linear(l, "fc2", h));
    if (p > 0) r2.body.push_back(dropout(l, "drop2", p));
    seq.body = {r1, r2};
    return seq;
  }
  // torchvision ResNet blocks (v1.5: the stride sits on the 3×3 conv).
  const uint64_t c = q.out_channels, s = *q.stride;
  const double d = q.density;
  LayerSpec r = prim(l, "residual", "res");
  r.project = true;
  r.stride = s;
  if (l.kind == "basic_block") {
    r.body = {conv(l, "conv1", c, 3, s), prim(l, "batchnorm", "bn1"), relu(l, "relu1", d), conv(l, "conv2", c, 3, 1),
              prim(l, "batchnorm", "bn2")};
  } else {
    r.body = {conv(l, "conv1", c, 1, 1),     prim(l, "batchnorm", "bn1"), relu(l, "relu1", d),
              conv(l, "conv2", c, 3, s),     prim(l, "batchnorm", "bn2"), relu(l, "relu2", d),
              conv(l, "conv3", 4 * c, 1, 1), prim(l, "batchnorm", "bn3")};
  }
  seq.body = {r, relu(l, "relu", d)};
  return seq;
}

}  // namespace bpsim::workload
