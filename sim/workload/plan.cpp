#include "sim/workload/plan.h"

#include "sim/core/error.h"
#include "sim/workload/spec_blocks.h"

namespace bpsim::workload {

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

uint64_t product(const Shape& s) {
  uint64_t p = 1;
  for (uint64_t x : s) p *= x;
  return p;
}

namespace {

class Planner {
 public:
  Planner(const NetSpec& net, NetPlan& p) : m_net(net), m_p(p) {}

  void run() {
    int x = -1;
    Shape shape = m_net.input_shape;
    for (size_t t = 0; t < m_net.layers.size(); ++t) {
      m_top = t;
      x = layer(m_net.layers[t], x, shape);
      m_p.top_last.push_back(x);
    }
    m_p.output = x;
  }

 private:
  [[noreturn]] void fail(const LayerSpec& l, const std::string& msg) { throw InputError(l.loc, l.name, msg); }

  /// Adds `l` reading node `x` of shape `shape`; returns its output node and updates `shape`.
  int layer(const LayerSpec& l, int x, Shape& shape) {
    if (l.kind == "sequence") {
      if (l.hidden && (shape.size() != 2 || shape[1] != l.hidden))
        fail(l, "expects an input of shape [tokens, " + std::to_string(l.hidden) + "], but the input shape is " +
                    shape_str(shape));
      for (const LayerSpec& c : l.body) x = layer(c, x, shape);
      return x;
    }
    if (l.kind == "residual" || l.kind == "product") return residual(l, x, shape);
    if (l.kind == "attention_core" && !l.body.empty()) return separate_projections(l, x, shape);
    Node n;
    n.l = &l;
    n.kind = l.kind;
    n.in = {x};
    n.in_shape = shape;
    n.out_shape = out_shape(l, shape);
    n.params = l.kind == "linear" || l.kind == "conv2d" || l.kind == "binary_linear" || l.kind == "binary_conv2d" ||
               l.kind == "layernorm" || l.kind == "batchnorm" || l.kind == "embedding" || l.kind == "rmsnorm" ||
               l.kind == "class_token" || l.kind == "position_embedding" || l.kind == "token_type_embedding";
    if (!l.tied.empty()) n.tied = tied_embedding(l, shape);
    shape = n.out_shape;
    return push(std::move(n));
  }

  /// The embedding node named `l.tied`, whose [vocab, dim] table must be this linear's
  /// [out_features, in_features] weight.
  int tied_embedding(const LayerSpec& l, const Shape& in) {
    if (m_net.autocast != Autocast::none)  // one fp32 .grad from two low-precision gradients: not modelled
      fail(l, "tied: a weight shared under autocast is not modelled yet (write autocast: none)");
    for (size_t j = 0; j < m_p.nodes.size(); ++j) {
      const Node& e = m_p.nodes[j];
      if (e.kind != "embedding" || e.l->name != l.tied) continue;
      if (e.l->vocab != l.out_features || e.l->out_features != in.back())
        fail(l, "tied: embedding '" + l.tied + "' has a [" + std::to_string(e.l->vocab) + ", " +
                    std::to_string(e.l->out_features) + "] table, but this layer's weight is [" +
                    std::to_string(l.out_features) + ", " + std::to_string(in.back()) + "]");
      return int(j);
    }
    fail(l, "tied: no earlier embedding layer is named '" + l.tied + "'");
  }

  /// Attention whose q, k and v come from projections of the same input (its body): they
  /// become nodes of their own, the attention node reads all three, side by side.
  int separate_projections(const LayerSpec& l, int x, Shape& shape) {
    Node n;
    n.l = &l;
    n.kind = l.kind;
    uint64_t width = 0;
    for (const LayerSpec& p : l.body) {
      Shape s = shape;
      n.in.push_back(layer(p, x, s));
      width += s.back();
    }
    n.in_shape = {shape[0], width};
    n.out_shape = out_shape(l, n.in_shape);
    shape = n.out_shape;
    return push(std::move(n));
  }

  int residual(const LayerSpec& l, int x, Shape& shape) {
    const Shape in = shape;
    Shape body = in;
    const int b = layer_list(l.body, x, body);
    Shape sc = in;
    int s = layer_list(l.shortcut, x, sc);
    if (sc != body && l.project && l.shortcut.empty() && body.size() == 3) {
      m_p.owned.push_back(l);
      LayerSpec& proj = m_p.owned.back();
      proj.kind = "sequence";
      proj.body = projection_shortcut(l, body[0], l.stride);
      sc = in;
      s = layer(proj, x, sc);
    }
    // A product group (SwiGLU) multiplies its two branches elementwise; a residual adds them.
    const bool product = l.kind == "product";
    if (sc != body)
      fail(l, "the residual branch gives " + shape_str(body) + " but the shortcut gives " + shape_str(sc) +
                  (product ? " (they are multiplied)" : " (they are added)"));
    Node n;
    n.l = &l;
    n.kind = product ? "mul" : "add";
    n.in = {b, s};
    n.in_shape = body;
    n.out_shape = body;
    shape = body;
    return push(std::move(n));
  }

  int layer_list(const std::vector<LayerSpec>& list, int x, Shape& shape) {
    for (const LayerSpec& c : list) x = layer(c, x, shape);
    return x;
  }

  int push(Node n) {
    n.top = m_top;
    n.needs_grad = n.params;
    for (int i : n.in) n.needs_grad = n.needs_grad || (i >= 0 && m_p.nodes[size_t(i)].needs_grad);
    m_p.nodes.push_back(std::move(n));
    return static_cast<int>(m_p.nodes.size() - 1);
  }

  Shape window(const LayerSpec& l, const Shape& s) {
    if (s.size() != 3) fail(l, l.kind + " expects [channels, height, width], but the input shape is " + shape_str(s));
    if (l.kind == "avgpool" && l.global) return {s[0], 1, 1};
    if (s[1] + 2 * l.padding < l.kernel || s[2] + 2 * l.padding < l.kernel)
      fail(l, "a " + std::to_string(l.kernel) + "×" + std::to_string(l.kernel) +
                  " window does not fit the input shape " + shape_str(s));
    const uint64_t c = l.kind == "conv2d" || l.kind == "binary_conv2d" ? l.out_features : s[0];
    if (l.kind == "conv2d" && s[0] % l.groups)
      fail(l, std::to_string(s[0]) + " input channels do not divide into " + std::to_string(l.groups) + " groups");
    return {c, (s[1] + 2 * l.padding - l.kernel) / l.stride + 1, (s[2] + 2 * l.padding - l.kernel) / l.stride + 1};
  }

  /// q, k and v side by side in: [tokens, (heads + 2·kv_heads)·d] → [tokens, heads·d].
  Shape attention_shape(const LayerSpec& l, const Shape& s) {
    const bool lsh = l.attention == AttnImpl::lsh;
    const uint64_t kv = l.kv_heads ? l.kv_heads : l.heads, parts = lsh ? 2 * l.heads : l.heads + 2 * kv;
    if (s.size() != 2 || s[1] % parts)
      fail(l, "attention expects [tokens, " +
                  std::string(lsh          ? "2·hidden"
                              : l.kv_heads ? "(heads + 2·kv_heads)·d"
                                           : "3·hidden") +
                  "] with hidden divisible by " + std::to_string(l.heads) + " heads, but the input shape is " +
                  shape_str(s));
    // The flash and cuDNN kernels take half-precision operands only; PyTorch's SDPA would run another
    // kernel for the rest (memory-efficient for fp32), whose saved tensors differ: refused.
    // Under autocast the attention computes in autocast's dtype (a matmul-class op), whatever
    // the parameters' dtype.
    if ((l.attention == AttnImpl::flash || l.attention == AttnImpl::cudnn) && m_net.dtype != DType::bf16 &&
        m_net.dtype != DType::fp16 && m_net.autocast == Autocast::none)
      fail(l, "attention: " + std::string(config::enum_name(kAttnImplNames, l.attention)) +
                  " runs in bf16 or fp16 only, not " + to_string(m_net.dtype) +
                  " (PyTorch's SDPA falls back to the memory-efficient kernel there: write attention: mem_efficient)");
    // Reformer hashes into n_buckets = tokens / c buckets by argmax over [xR, −xR] with R of
    // n_buckets/2 random rotations: the tokens must fill an even number of whole chunks.
    if (lsh && (s[0] % l.bucket_size || (s[0] / l.bucket_size) % 2))
      fail(l, "lsh attention: " + std::to_string(s[0]) + " tokens must fill an even number (at least 2) of " +
                  "bucket_size " + std::to_string(l.bucket_size) + " chunks (tokens / bucket_size hash buckets, " +
                  "from half as many random rotations)");
    return {s[0], s[1] / parts * l.heads};
  }

  Shape out_shape(const LayerSpec& l, const Shape& s) {
    const std::string& k = l.kind;
    if (k == "linear" || k == "binary_linear") {
      if (s.size() > 2)
        fail(l, k + " expects [features] or [tokens, features], but the input shape is " + shape_str(s) +
                    " (add a flatten layer before it)");
      Shape o = s;
      o.back() = l.out_features;
      return o;
    }
    if (k == "conv2d" || k == "binary_conv2d" || k == "maxpool" || k == "avgpool") return window(l, s);
    if (k == "flatten") return {product(s)};
    if (k == "batchnorm" && s.size() != 3 && s.size() != 1)
      fail(l, "batchnorm expects [channels, height, width] or [features], but the input shape is " + shape_str(s));
    if (k == "embedding") {
      if (s.size() != 1) fail(l, "embedding expects token ids [tokens], but the input shape is " + shape_str(s));
      return {s[0], l.out_features};
    }
    if (k == "attention_core") return attention_shape(l, s);
    if (k == "tokens") {  // a view of a [channels, height, width] map as height·width tokens
      if (s.size() != 3) fail(l, "tokens expects [channels, height, width], but the input shape is " + shape_str(s));
      return {s[1] * s[2], s[0]};
    }
    if (k == "class_token" || k == "select_token" || k == "position_embedding" || k == "token_type_embedding") {
      if (s.size() != 2) fail(l, k + " expects [tokens, features], but the input shape is " + shape_str(s));
      if (k == "position_embedding" && l.lookup && l.vocab < s[0])
        fail(l, "a table of " + std::to_string(l.vocab) + " rows cannot cover " + std::to_string(s[0]) + " tokens");
      if (k == "class_token") return {s[0] + 1, s[1]};
      if (k == "select_token") return {s[1]};
    }
    return s;  // relu, gelu, silu, dropout, softmax, layernorm, batchnorm, rmsnorm, copy: same shape
  }

  const NetSpec& m_net;
  NetPlan& m_p;
  size_t m_top = 0;
};

}  // namespace

NetPlan plan_network(const NetSpec& net) {
  NetPlan p;
  Planner(net, p).run();
  apply_block_update(net.training.block_update, net, p);
  return p;
}

}  // namespace bpsim::workload
