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

/// The attention sub-layer: QKV projection, softmax(QKᵀ/√d)·V per head, output projection.
void attention(const LayerSpec& parent, uint64_t h, uint64_t heads, bool causal, double p,
               std::vector<LayerSpec>& out) {
  out.push_back(linear(parent, "qkv", 3 * h));
  LayerSpec core = prim(parent, "attention_core", "attn");
  core.heads = heads;
  core.causal = causal;
  core.p = p;
  out.push_back(core);
  out.push_back(linear(parent, "proj", h));
}

}  // namespace

std::vector<LayerSpec> projection_shortcut(const LayerSpec& residual, uint64_t channels, uint64_t stride) {
  LayerSpec c = conv(residual, "down.conv", channels, 1, stride);
  c.padding = 0;
  return {c, prim(residual, "batchnorm", "down.bn")};
}

LayerSpec expand_block(const LayerParams& q, const config::Values& v, const LayerSpec& l) {
  LayerSpec seq = l;
  seq.kind = "sequence";
  if (l.kind == "attention" || l.kind == "transformer_block") {
    const uint64_t h = q.hidden, a = q.heads;
    if (h % a)
      throw v.error("heads", "hidden " + std::to_string(h) + " does not divide by " + std::to_string(a) + " heads");
    const double p = q.dropout;
    seq.hidden = h;
    if (l.kind == "attention") {
      attention(l, h, a, q.causal, p, seq.body);
      return seq;
    }
    // GPT-2 style pre-LayerNorm block: x + Drop(Proj(Attn(LN(x)))), then
    // x + Drop(FC2(GELU(FC1(LN(x))))). Dropout 0 leaves the dropout layers out.
    LayerSpec r1 = prim(l, "residual", "res1");
    r1.body.push_back(prim(l, "layernorm", "ln1"));
    attention(l, h, a, q.causal, p, r1.body);
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
