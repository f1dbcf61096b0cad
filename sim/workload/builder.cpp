#include "sim/workload/builder.h"

#include <algorithm>
#include <map>

#include "sim/core/error.h"

namespace bpsim::workload {

std::string Policy::name() const {
  switch (kind) {
    case Kind::none: return "none";
    case Kind::checkpoint: return "checkpoint";
    case Kind::checkpoint_sequential: return "checkpoint_sequential(" + std::to_string(segments) + ")";
    case Kind::full_recompute: return "full_recompute";
  }
  return "?";
}

namespace {

std::string shape_str(const std::vector<uint64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

uint64_t product(const std::vector<uint64_t>& s) {
  uint64_t p = 1;
  for (uint64_t x : s) p *= x;
  return p;
}

/// Tensors one layer's forward produced that its backward reads.
struct LayerCtx {
  uint32_t in = 0, out = 0, mask = 0;
  bool has_mask = false;
};

class StepBuilder {
 public:
  StepBuilder(const NetSpec& net, OpGraph& g) : m_net(net), m_g(g), m_elem(dtype_bits(net.dtype) / 8) {}

  uint32_t tensor(const std::string& name, uint64_t bytes, TensorRole role) {
    const uint32_t id = static_cast<uint32_t>(m_g.tensors.size());
    m_g.tensors.push_back(Tensor{id, name, bytes, role});
    return id;
  }

  Op& op(const std::string& name, const std::string& layer, Phase ph, OpKind kind, std::vector<uint32_t> reads,
         std::vector<uint32_t> writes) {
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

  /// Shapes and parameters, checked once: per-sample feature counts in and out of each layer.
  void plan() {
    std::vector<uint64_t> shape = m_net.input_shape;
    for (const LayerSpec& l : m_net.layers) {
      m_in_features.push_back(product(shape));
      if (l.kind == "linear") {
        if (shape.size() != 1)
          throw InputError(l.loc, l.name, "linear expects a flat input [features], but the input shape is " +
                                              shape_str(shape) + " (add a flatten layer before it)");
        m_weights.push_back(tensor(l.name + ".weight", shape[0] * l.out_features * m_elem, TensorRole::weight));
        m_biases.push_back(l.bias ? tensor(l.name + ".bias", l.out_features * m_elem, TensorRole::weight) : 0);
        shape = {l.out_features};
      } else if (l.kind == "conv2d" || l.kind == "maxpool") {
        if (shape.size() != 3)
          throw InputError(l.loc, l.name, l.kind + " expects [channels, height, width], but the input shape is " +
                                              shape_str(shape));
        if (shape[1] + 2 * l.padding < l.kernel || shape[2] + 2 * l.padding < l.kernel)
          throw InputError(l.loc, l.name, "a " + std::to_string(l.kernel) + "×" + std::to_string(l.kernel) +
                                              " window does not fit the input shape " + shape_str(shape));
        const uint64_t c = shape[0], p = (shape[1] + 2 * l.padding - l.kernel) / l.stride + 1,
                       q = (shape[2] + 2 * l.padding - l.kernel) / l.stride + 1;
        if (l.kind == "conv2d") {
          m_weights.push_back(tensor(l.name + ".weight", c * l.kernel * l.kernel * l.out_features * m_elem, TensorRole::weight));
          m_biases.push_back(l.bias ? tensor(l.name + ".bias", l.out_features * m_elem, TensorRole::weight) : 0);
          shape = {l.out_features, p, q};
        } else {
          m_weights.push_back(0);
          m_biases.push_back(0);
          shape = {c, p, q};
        }
      } else {
        m_weights.push_back(0);
        m_biases.push_back(0);
        if (l.kind == "flatten") shape = {product(shape)};
      }
      m_in_shape.push_back(m_out_shape.empty() ? m_net.input_shape : m_out_shape.back());
      m_out_shape.push_back(shape);
    }
    m_wgrad.assign(m_net.layers.size(), 0);
    m_bgrad.assign(m_net.layers.size(), 0);
  }

  LayerCtx forward(size_t i, uint32_t in, Phase ph) {
    const LayerSpec& l = m_net.layers[i];
    const uint64_t b = m_net.batch, in_f = m_in_features[i], out_f = product(m_out_shape[i]);
    const std::string suffix = ph == Phase::recompute ? ".recompute" : ".fwd";
    LayerCtx c;
    c.in = in;
    if (l.kind == "flatten") {  // a view: the same storage
      c.out = in;
      return c;
    }
    c.out = tensor(l.name + ".out" + (ph == Phase::recompute ? ".re" : ""), b * out_f * m_elem, TensorRole::activation);
    if (l.kind == "linear") {
      std::vector<uint32_t> reads = {in, m_weights[i]};
      if (l.bias) reads.push_back(m_biases[i]);
      Op& o = op(l.name + suffix, l.name, ph, OpKind::gemm, reads, {c.out});
      o.gemm = GemmDims{b, out_f, in_f, 1};
      o.macs = o.gemm.macs();
      o.flops = l.bias ? b * out_f : 0;
      o.detail = "linear";
    } else if (l.kind == "conv2d") {
      std::vector<uint32_t> reads = {in, m_weights[i]};
      if (l.bias) reads.push_back(m_biases[i]);
      Op& o = op(l.name + suffix, l.name, ph, OpKind::conv, reads, {c.out});
      o.conv = conv_shape(i);
      o.gemm = GemmDims{b * o.conv.p * o.conv.q, o.conv.k, o.conv.c * o.conv.r * o.conv.s, 1};
      o.macs = o.gemm.macs();
      o.flops = l.bias ? b * out_f : 0;
      o.detail = "conv2d";
    } else if (l.kind == "maxpool") {
      // PyTorch's max_pool2d keeps its input and int64 argmax indices for backward.
      c.mask = tensor(l.name + ".indices" + (ph == Phase::recompute ? ".re" : ""), b * out_f * 8, TensorRole::saved);
      c.has_mask = true;
      Op& o = op(l.name + suffix, l.name, ph, OpKind::pool, {in}, {c.out, c.mask});
      o.elements = b * out_f;
      o.flops = b * out_f * l.kernel * l.kernel;
      o.detail = "maxpool";
    } else {
      std::vector<uint32_t> writes = {c.out};
      if (l.kind == "dropout") {
        c.mask = tensor(l.name + ".mask" + (ph == Phase::recompute ? ".re" : ""), b * out_f, TensorRole::mask);
        c.has_mask = true;
        writes.push_back(c.mask);
      }
      Op& o = op(l.name + suffix, l.name, ph, OpKind::elementwise, {in}, writes);
      o.elements = b * out_f;
      o.flops = b * out_f * (l.kind == "gelu" ? 8 : 1);
      o.detail = l.kind;
    }
    return c;
  }

  /// Emits layer i's backward; returns the gradient of its input (0 when none is needed).
  uint32_t backward(size_t i, const LayerCtx& c, uint32_t dy) {
    const LayerSpec& l = m_net.layers[i];
    const uint64_t b = m_net.batch, in_f = m_in_features[i], out_f = product(m_out_shape[i]);
    if (l.kind == "flatten") return dy;
    const bool need_dx = i > 0 && needs_input_grad(i);
    uint32_t dx = 0;
    if (l.kind == "linear" || l.kind == "conv2d") {
      const bool conv = l.kind == "conv2d";
      const ConvShape cs = conv ? conv_shape(i) : ConvShape{};
      const uint64_t rows = conv ? b * cs.p * cs.q : b, fan_in = conv ? cs.c * cs.r * cs.s : in_f,
                     outs = conv ? cs.k : out_f;
      if (need_dx) {
        dx = tensor(l.name + ".dx", b * in_f * m_elem, TensorRole::gradient);
        Op& o = op(l.name + ".dx", l.name, Phase::backward_data, conv ? OpKind::conv : OpKind::gemm, {dy, m_weights[i]}, {dx});
        // dX = dY·Wᵀ; for a conv in column form (then col2im): [N·P·Q × K]·[K × C·R·S].
        o.gemm = GemmDims{rows, fan_in, outs, 1};
        o.conv = cs;
        o.macs = o.gemm.macs();
        o.detail = l.kind + "_dx";
        // The gradient flows into a ReLU's backward: outputs where the ReLU was off are unused.
        const LayerSpec& prev = m_net.layers[i - 1];
        if (prev.kind == "relu") {
          o.out_mask.source = OutputMask::Source::relu;
          o.out_mask.density = prev.density;
        }
      }
      const uint32_t dw = tensor(l.name + ".weight.grad", fan_in * outs * m_elem, TensorRole::weight_gradient);
      Op& w = op(l.name + ".dw", l.name, Phase::backward_weight, conv ? OpKind::conv : OpKind::gemm, {c.in, dy}, {dw});
      w.gemm = GemmDims{fan_in, outs, rows, 1};  // dW = Xᵀ·dY (X in column form for a conv)
      w.conv = cs;
      w.macs = w.gemm.macs();
      w.detail = l.kind + "_dw";
      if (l.weight_density < 1.0) {
        w.out_mask.source = OutputMask::Source::pruned;
        w.out_mask.density = l.weight_density;
      }
      m_wgrad[i] = dw;
      if (l.bias) {
        const uint32_t db = tensor(l.name + ".bias.grad", outs * m_elem, TensorRole::weight_gradient);
        Op& r = op(l.name + ".db", l.name, Phase::backward_weight, OpKind::reduction, {dy}, {db});
        r.elements = outs;
        r.flops = b * out_f;
        r.detail = "bias_grad";
        m_bgrad[i] = db;
      }
      return dx;
    }
    if (!need_dx) return 0;
    dx = tensor(l.name + ".dx", b * in_f * m_elem, TensorRole::gradient);
    // ReLU keeps its output, GELU its input, dropout its mask, max-pool its input and
    // indices (PyTorch's saved tensors).
    std::vector<uint32_t> reads = {dy};
    if (l.kind == "relu") reads.push_back(c.out);
    if (l.kind == "gelu" || l.kind == "maxpool") reads.push_back(c.in);
    if (c.has_mask) reads.push_back(c.mask);
    Op& o = op(l.name + ".bwd", l.name, Phase::backward_data, l.kind == "maxpool" ? OpKind::pool : OpKind::elementwise,
               reads, {dx});
    o.elements = b * in_f;
    o.flops = b * in_f * (l.kind == "gelu" ? 10 : 1);
    o.detail = l.kind + "_bwd";
    return dx;
  }

  void update() {
    const unsigned states = m_net.optimizer == Optimizer::adam ? 2 : m_net.optimizer == Optimizer::momentum ? 1 : 0;
    const char* name = m_net.optimizer == Optimizer::adam ? "adam" : m_net.optimizer == Optimizer::momentum ? "momentum" : "sgd";
    // Arithmetic per parameter: sgd w -= lr·g (2); momentum adds v = μv + g (4);
    // adam: two moment updates, bias corrections, sqrt, divide (about 12).
    const uint64_t flops_per = states == 2 ? 12 : states == 1 ? 4 : 2;
    for (size_t i = 0; i < m_net.layers.size(); ++i) {
      const std::pair<uint32_t, uint32_t> params[] = {{m_weights[i], m_wgrad[i]}, {m_biases[i], m_bgrad[i]}};
      for (const auto& [param, grad] : params) {
        if (!param) continue;
        std::vector<uint32_t> reads = {param, grad}, writes = {param};
        const uint64_t n = m_g.tensors[param].bytes / m_elem;
        for (unsigned s = 0; s < states; ++s) {
          // Optimizer state is kept in fp32 (PyTorch's default for fp32 and AMP training).
          const uint32_t st = tensor(m_g.tensors[param].name + ".state" + std::to_string(s), n * 4, TensorRole::optimizer_state);
          reads.push_back(st);
          writes.push_back(st);
        }
        Op& o = op(m_g.tensors[param].name + ".update", m_net.layers[i].name, Phase::update, OpKind::optimizer, reads, writes);
        o.elements = n;
        o.flops = n * flops_per;
        o.detail = name;
      }
    }
  }

  uint32_t loss_grad(uint32_t out, size_t last) {
    const uint64_t n = m_net.batch * product(m_out_shape[last]);
    const uint32_t dy = tensor("loss.grad", n * m_elem, TensorRole::gradient);
    Op& o = op("loss.bwd", "loss", Phase::backward_data, OpKind::elementwise, {out}, {dy});
    o.elements = n;
    o.flops = n * 4;  // softmax cross-entropy gradient: exp, sum, divide, subtract
    o.detail = "loss_grad";
    return dy;
  }

 private:
  /// A layer needs its input gradient unless everything before it has no parameters.
  bool needs_input_grad(size_t i) const {
    for (size_t j = 0; j < i; ++j)
      if (m_net.layers[j].kind == "linear" || m_net.layers[j].kind == "conv2d") return true;
    return false;
  }

  ConvShape conv_shape(size_t i) const {
    const LayerSpec& l = m_net.layers[i];
    const auto& in = m_in_shape[i];
    const auto& out = m_out_shape[i];
    return ConvShape{m_net.batch, in[0], in[1], in[2], out[0], l.kernel, l.kernel, l.stride, l.padding, 1, out[1], out[2]};
  }

  const NetSpec& m_net;
  OpGraph& m_g;
  uint64_t m_elem;
  std::map<uint32_t, uint32_t> m_producer;
  std::vector<uint64_t> m_in_features;
  std::vector<std::vector<uint64_t>> m_in_shape, m_out_shape;
  std::vector<uint32_t> m_weights, m_biases;
  std::vector<uint32_t> m_wgrad, m_bgrad;  ///< gradient tensor of each layer's weight and bias
};

}  // namespace

OpGraph build_step(const NetSpec& net, const Policy& policy) {
  OpGraph g;
  g.name = net.name;
  g.dtype = net.dtype;
  g.batch = net.batch;
  const size_t n = net.layers.size();
  // Checkpoint segments: seg[i] = segment id of layer i, -1 when it is not checkpointed.
  std::vector<int> seg(n, -1);
  switch (policy.kind) {
    case Policy::Kind::none: break;
    case Policy::Kind::checkpoint:
      for (size_t i = 0; i < n; ++i) seg[i] = static_cast<int>(i);
      break;
    case Policy::Kind::full_recompute: std::fill(seg.begin(), seg.end(), 0); break;
    case Policy::Kind::checkpoint_sequential: {
      if (policy.segments < 1 || policy.segments > n)
        throw InputError("policy checkpoint_sequential: " + std::to_string(policy.segments) +
                         " segments for " + std::to_string(n) + " layers (need 1 to " + std::to_string(n) + ")");
      // PyTorch: segments of ⌊n/segments⌋ layers; all but the last part are checkpointed.
      const size_t size = n / policy.segments;
      for (size_t k = 0; k + 1 < policy.segments; ++k)
        for (size_t i = k * size; i < (k + 1) * size; ++i) seg[i] = static_cast<int>(k);
      break;
    }
  }

  StepBuilder b(net, g);
  b.plan();
  const uint32_t input = b.tensor("input", net.batch * [&] {
    uint64_t p = 1;
    for (uint64_t x : net.input_shape) p *= x;
    return p;
  }() * (dtype_bits(net.dtype) / 8), TensorRole::input);
  std::vector<LayerCtx> ctx(n);
  uint32_t x = input;
  for (size_t i = 0; i < n; ++i) {
    ctx[i] = b.forward(i, x, Phase::forward);
    x = ctx[i].out;
  }
  uint32_t dy = b.loss_grad(x, n - 1);
  for (size_t i = n; i-- > 0;) {
    if (seg[i] >= 0 && (i + 1 == n || seg[i + 1] != seg[i])) {
      // Entering a checkpointed segment from its end: re-run its forward from the saved
      // segment input, so its backward reads recomputed tensors.
      size_t first = i;
      while (first > 0 && seg[first - 1] == seg[i]) --first;
      uint32_t xin = ctx[first].in;
      for (size_t j = first; j <= i; ++j) {
        ctx[j] = b.forward(j, xin, Phase::recompute);
        xin = ctx[j].out;
      }
    }
    dy = b.backward(i, ctx[i], dy);
  }
  b.update();
  g.memory.policy = policy.name();
  account_memory(g);
  return g;
}

void account_memory(OpGraph& g) {
  const size_t nt = g.tensors.size();
  std::vector<int64_t> first(nt, -1), last(nt, -1);
  for (const Op& o : g.ops) {
    for (uint32_t t : o.writes)
      if (first[t] < 0) first[t] = o.id;
    for (uint32_t t : o.reads) last[t] = o.id;
  }
  auto counted = [&](uint32_t t) {
    const TensorRole r = g.tensors[t].role;
    return r != TensorRole::weight && r != TensorRole::input && r != TensorRole::optimizer_state && first[t] >= 0;
  };
  // Frees happen after each op; a tensor nobody reads dies right after the op that wrote it.
  std::vector<std::vector<uint32_t>> alloc_at(g.ops.size()), free_at(g.ops.size());
  for (uint32_t t = 0; t < nt; ++t) {
    if (!counted(t)) continue;
    alloc_at[first[t]].push_back(t);
    if (g.tensors[t].role == TensorRole::weight_gradient) continue;  // .grad lives to the end
    free_at[std::max(first[t], last[t])].push_back(t);
  }
  int64_t last_forward = -1;
  for (const Op& o : g.ops)
    if (o.phase == Phase::forward) last_forward = o.id;
  uint64_t live = 0, peak = 0;
  for (const Op& o : g.ops) {
    for (uint32_t t : alloc_at[o.id]) live += g.tensors[t].bytes;
    peak = std::max(peak, live);
    for (uint32_t t : free_at[o.id]) live -= g.tensors[t].bytes;
    if (int64_t(o.id) == last_forward) g.memory.saved_after_forward_bytes = live;
  }
  g.memory.peak_bytes = peak;
}

}  // namespace bpsim::workload
