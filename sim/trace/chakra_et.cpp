#include "sim/trace/chakra_et.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <functional>
#include <map>
#include <queue>
#include <vector>

#include <google/protobuf/io/coded_stream.h>

#include "sim/core/checked.h"
#include "sim/core/error.h"
#include "sim/core/limits.h"
#include "sim/trace/chakra_et.pb.h"
#include "sim/trace/import_util.h"
#include "sim/trace/trace_file.h"

namespace bpsim::trace {

using namespace workload;
namespace pb = bpsim_chakra;

namespace {

/// A Python literal as Chakra's PyTorch converter writes IOInfo strings (str() of a list):
/// nested lists/tuples, integers, and other scalars (strings, floats, True/False/None) kept
/// as their text.
struct Lit {
  enum class Kind { list, integer, other } kind = Kind::other;
  int64_t i = 0;
  std::string text;
  std::vector<Lit> items;
  /// A shape: a list of integers.
  bool is_shape() const {
    return kind == Kind::list &&
           std::all_of(items.begin(), items.end(), [](const Lit& x) { return x.kind == Kind::integer; });
  }
};

class LitParser {
 public:
  explicit LitParser(const std::string& s) : m_s(s) {}
  bool parse(Lit& out) {
    if (!value(out, 0)) return false;
    ws();
    return m_p == m_s.size();
  }

 private:
  void ws() {
    while (m_p < m_s.size() && std::isspace(static_cast<unsigned char>(m_s[m_p]))) ++m_p;
  }
  bool value(Lit& v, int depth) {
    ws();
    if (m_p >= m_s.size() || depth > 32) return false;
    const char c = m_s[m_p];
    if (c == '[' || c == '(') {
      const char close = c == '[' ? ']' : ')';
      ++m_p;
      v.kind = Lit::Kind::list;
      for (;;) {
        ws();
        if (m_p < m_s.size() && m_s[m_p] == close) {
          ++m_p;
          return true;
        }
        Lit item;
        if (!value(item, depth + 1)) return false;
        v.items.push_back(std::move(item));
        ws();
        if (m_p < m_s.size() && m_s[m_p] == ',') {
          ++m_p;
          continue;
        }
        if (m_p < m_s.size() && m_s[m_p] == close) {
          ++m_p;
          return true;
        }
        return false;
      }
    }
    const size_t begin = m_p;
    if (c == '\'' || c == '"') {
      for (++m_p; m_p < m_s.size() && m_s[m_p] != c; ++m_p)
        if (m_s[m_p] == '\\') ++m_p;
      if (m_p >= m_s.size()) return false;
      v.text = m_s.substr(begin, ++m_p - begin);
      return true;
    }
    while (m_p < m_s.size() && !std::strchr(",])", m_s[m_p]) && !std::isspace(static_cast<unsigned char>(m_s[m_p])))
      ++m_p;
    v.text = m_s.substr(begin, m_p - begin);
    if (v.text.empty()) return false;
    const size_t digits = v.text[0] == '-' ? 1 : 0;
    if (v.text.size() > digits && v.text.size() <= 18 + digits &&
        v.text.find_first_not_of("0123456789", digits) == std::string::npos) {
      v.kind = Lit::Kind::integer;
      v.i = std::stoll(v.text);
    }
    return true;
  }
  const std::string& m_s;
  size_t m_p = 0;
};

/// One node being converted: every error names the file, the node's index and id, the field.
class NodeCtx {
 public:
  NodeCtx(const std::string& file, size_t index, const pb::Node& n) : m_file(file), m_index(index), m_node(n) {}
  const pb::Node& node() const { return m_node; }
  Location loc() const { return Location{m_file}; }
  /// "node[3] (id 17).FIELD"
  std::string key(const std::string& field) const {
    return "node[" + std::to_string(m_index) + "] (id " + std::to_string(m_node.id()) + ")" +
           (field.empty() ? "" : "." + field);
  }
  [[noreturn]] void fail(const std::string& field, const std::string& msg) const {
    throw InputError(loc(), key(field), msg);
  }
  const pb::AttributeProto* attr(const std::string& name) const {
    for (const pb::AttributeProto& a : m_node.attr())
      if (a.name() == name) return &a;
    return nullptr;
  }
  bool has(const std::string& name) const { return attr(name) != nullptr; }
  /// An integer attribute (any of the schema's integer value fields), at least `min`.
  uint64_t u64(const std::string& name, bool required, uint64_t def = 0, uint64_t min = 0) const {
    const pb::AttributeProto* a = attr(name);
    if (!a) {
      if (required) fail("attr." + name, "missing required attribute (an integer)");
      return def;
    }
    int64_t s = 0;
    uint64_t u = 0;
    bool is_signed = true;
    switch (a->value_case()) {
      case pb::AttributeProto::kInt32Val: s = a->int32_val(); break;
      case pb::AttributeProto::kInt64Val: s = a->int64_val(); break;
      case pb::AttributeProto::kSint32Val: s = a->sint32_val(); break;
      case pb::AttributeProto::kSint64Val: s = a->sint64_val(); break;
      case pb::AttributeProto::kSfixed32Val: s = a->sfixed32_val(); break;
      case pb::AttributeProto::kSfixed64Val: s = a->sfixed64_val(); break;
      case pb::AttributeProto::kUint32Val: u = a->uint32_val(), is_signed = false; break;
      case pb::AttributeProto::kUint64Val: u = a->uint64_val(), is_signed = false; break;
      case pb::AttributeProto::kFixed32Val: u = a->fixed32_val(), is_signed = false; break;
      case pb::AttributeProto::kFixed64Val: u = a->fixed64_val(), is_signed = false; break;
      default: fail("attr." + name, "expected an integer value (int32/int64/uint32/uint64/sint/fixed)");
    }
    if (is_signed && s < 0) fail("attr." + name, "must be non-negative, got " + std::to_string(s));
    if (is_signed) u = uint64_t(s);
    if (u < min) fail("attr." + name, "must be at least " + std::to_string(min) + ", got " + std::to_string(u));
    return u;
  }
  std::string str(const std::string& name) const {
    const pb::AttributeProto* a = attr(name);
    if (a->value_case() != pb::AttributeProto::kStringVal) fail("attr." + name, "expected a string value");
    return a->string_val();
  }
  /// inputs/outputs .shapes or .values, parsed; an empty string is an empty list.
  Lit io(const pb::IOInfo& info, bool shapes, const char* which) const {
    const std::string& s = shapes ? info.shapes() : info.values();
    Lit l;
    if (s.empty()) {
      l.kind = Lit::Kind::list;
      return l;
    }
    if (!LitParser(s).parse(l) || l.kind != Lit::Kind::list)
      fail(std::string(which) + (shapes ? ".shapes" : ".values"),
           "expected a Python-literal list such as [[64, 128], [128, 256]], got '" + s.substr(0, 80) + "'");
    return l;
  }

 private:
  const std::string& m_file;
  size_t m_index;
  const pb::Node& m_node;
};

/// The product of sizes, or an error naming `field` when it overflows 64 bits.
uint64_t product(const NodeCtx& c, const std::string& field, std::initializer_list<uint64_t> xs) {
  return product_or_throw(c.loc(), c.key(field), xs);
}

/// Elements of every tensor in a literal: a shape's product, summed over nested lists.
uint64_t tensor_elements(const NodeCtx& c, const std::string& field, const Lit& l) {
  if (l.kind != Lit::Kind::list) return 0;
  if (l.is_shape() && !l.items.empty()) {
    uint64_t p = 1;
    for (const Lit& d : l.items) p = product(c, field, {p, uint64_t(std::max<int64_t>(d.i, 0))});
    return p;
  }
  uint64_t s = 0;
  for (const Lit& x : l.items) s = sum_or_throw(c.loc(), c.key(field), {s, tensor_elements(c, field, x)});
  return s;
}

std::string type_name(int t) { return pb::NodeType_IsValid(t) ? pb::NodeType_Name(static_cast<pb::NodeType>(t)) : "?"; }

/// The i-th input shape, of rank `rank` (0: any rank ≥ 1), all dims ≥ 1.
std::vector<uint64_t> shape_at(const NodeCtx& c, const Lit& shapes, size_t i, size_t rank) {
  const std::string want = rank ? "a rank-" + std::to_string(rank) + " tensor" : "a tensor";
  if (i >= shapes.items.size() || !shapes.items[i].is_shape() || shapes.items[i].items.empty() ||
      (rank && shapes.items[i].items.size() != rank))
    c.fail("inputs.shapes", c.node().name() + " needs " + want + " as input " + std::to_string(i) + ", shapes are '" +
                                c.node().inputs().shapes() + "'");
  std::vector<uint64_t> d;
  for (const Lit& x : shapes.items[i].items) {
    if (x.i < 1) c.fail("inputs.shapes", "dimensions must be at least 1 in '" + c.node().inputs().shapes() + "'");
    d.push_back(uint64_t(x.i));
  }
  return d;
}

/// An integer (or the first of a list of integers) of inputs.values at position `i`.
uint64_t value_at(const NodeCtx& c, const Lit& values, size_t i, const char* what, uint64_t min) {
  const Lit* v = i < values.items.size() ? &values.items[i] : nullptr;
  if (v && v->kind == Lit::Kind::list && !v->items.empty()) v = &v->items[0];
  if (!v || v->kind != Lit::Kind::integer || v->i < int64_t(min))
    c.fail("inputs.values", c.node().name() + " needs its " + what + " (an integer ≥ " + std::to_string(min) +
                                ") as input " + std::to_string(i) + ", values are '" +
                                c.node().inputs().values().substr(0, 120) + "'");
  return uint64_t(v->i);
}

/// The PyTorch ops bpsim reads GEMM / conv dims of (from inputs.shapes).
bool is_aten_compute(const std::string& name) {
  static const char* const names[] = {"aten::mm",          "aten::addmm",        "aten::bmm",
                                      "aten::baddbmm",     "aten::matmul",       "aten::linear",
                                      "aten::convolution", "aten::_convolution", "aten::conv2d"};
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

/// Those that call others of them (linear → addmm or matmul, matmul → mm or bmm, conv2d →
/// convolution → _convolution); a PyTorch execution trace records the callee too, as a
/// node whose ctrl_deps name its caller.
bool is_aten_wrapper(const std::string& name) {
  return name == "aten::linear" || name == "aten::matmul" || name == "aten::conv2d" || name == "aten::convolution" ||
         name == "aten::_convolution";
}

struct Compute {
  std::string field;  ///< where the dims came from, for errors: attr or inputs.shapes
  OpKind kind = OpKind::elementwise;
  GemmDims gemm;
  ConvShape conv;
  bool matched = false;
};

void finish_conv(const NodeCtx& c, Compute& r, const char* field) {
  ConvShape& s = r.conv;
  for (uint64_t x : {s.n, s.c, s.h, s.w, s.k, s.r, s.s, s.stride, s.pad, s.groups})
    if (x > (uint64_t(1) << 32)) c.fail(field, "convolution sizes above 2^32 are not supported");
  if (s.c % s.groups)
    c.fail(field, std::to_string(s.c) + " input channels do not divide into " + std::to_string(s.groups) + " groups");
  if (s.h + 2 * s.pad < s.r || s.w + 2 * s.pad < s.s) c.fail(field, "kernel larger than the padded input");
  s.p = (s.h + 2 * s.pad - s.r) / s.stride + 1;
  s.q = (s.w + 2 * s.pad - s.s) / s.stride + 1;
  r.kind = OpKind::conv;
  r.gemm = GemmDims{product(c, field, {s.n, s.p, s.q}), s.k, product(c, field, {s.c / s.groups, s.r, s.s}),
                    1};  // im2col, as emit_forward
  r.matched = true;
}

/// GEMM / conv dims of a COMP node: bpsim's attributes first, then PyTorch op names.
Compute compute_of(const NodeCtx& c) {
  Compute r;
  static const char* const gemm_keys[] = {"gemm_m", "gemm_n", "gemm_k"};
  static const char* const conv_keys[] = {"conv_n", "conv_c", "conv_h", "conv_w", "conv_k", "conv_r", "conv_s"};
  if (std::any_of(std::begin(gemm_keys), std::end(gemm_keys), [&](const char* k) { return c.has(k); })) {
    r.field = "attr";
    r.kind = OpKind::gemm;
    r.gemm = GemmDims{c.u64("gemm_m", true, 0, 1), c.u64("gemm_n", true, 0, 1), c.u64("gemm_k", true, 0, 1),
                      c.u64("gemm_batch", false, 1, 1)};
    r.matched = true;
    return r;
  }
  if (std::any_of(std::begin(conv_keys), std::end(conv_keys), [&](const char* k) { return c.has(k); })) {
    r.field = "attr";
    ConvShape& s = r.conv;
    s.n = c.u64("conv_n", true, 0, 1), s.c = c.u64("conv_c", true, 0, 1), s.h = c.u64("conv_h", true, 0, 1);
    s.w = c.u64("conv_w", true, 0, 1), s.k = c.u64("conv_k", true, 0, 1), s.r = c.u64("conv_r", true, 0, 1);
    s.s = c.u64("conv_s", true, 0, 1), s.stride = c.u64("conv_stride", false, 1, 1);
    s.pad = c.u64("conv_pad", false, 0), s.groups = c.u64("conv_groups", false, 1, 1);
    finish_conv(c, r, "attr");
    return r;
  }
  const std::string& name = c.node().name();
  auto mm = [&](uint64_t m, uint64_t k, uint64_t k2, uint64_t n, uint64_t batch) {
    if (k != k2)
      c.fail("inputs.shapes", name + ": inner dimensions differ (" + std::to_string(k) + " vs " + std::to_string(k2) +
                                  ") in '" + c.node().inputs().shapes() + "'");
    r.kind = OpKind::gemm;
    r.gemm = GemmDims{m, n, k, batch};
    r.matched = true;
  };
  if (!is_aten_compute(name)) return r;
  r.field = "inputs.shapes";
  const Lit shapes = c.io(c.node().inputs(), true, "inputs");
  // addmm(bias, a, b) and baddbmm(bias, a, b) carry the bias first.
  const size_t a = name == "aten::addmm" || name == "aten::baddbmm" ? 1 : 0;
  if (name == "aten::mm" || name == "aten::addmm") {
    const auto x = shape_at(c, shapes, a, 2), y = shape_at(c, shapes, a + 1, 2);
    mm(x[0], x[1], y[0], y[1], 1);
  } else if (name == "aten::bmm" || name == "aten::baddbmm") {
    const auto x = shape_at(c, shapes, a, 3), y = shape_at(c, shapes, a + 1, 3);
    if (x[0] != y[0]) c.fail("inputs.shapes", name + ": batch sizes differ in '" + c.node().inputs().shapes() + "'");
    mm(x[1], x[2], y[1], y[2], x[0]);
  } else if (name == "aten::linear") {
    // linear(x[..., K], weight[N, K]): M = the product of x's leading dims.
    const auto x = shape_at(c, shapes, 0, 0), w = shape_at(c, shapes, 1, 2);
    uint64_t m = 1;
    for (size_t i = 0; i + 1 < x.size(); ++i) m = product(c, "inputs.shapes", {m, x[i]});
    mm(m, x.back(), w[1], w[0], 1);
  } else if (name == "aten::matmul") {
    // The forms bpsim reads: [M, K]·[K, N], [B, M, K]·[B, K, N] and [..., M, K]·[K, N].
    const auto x = shape_at(c, shapes, 0, 0), y = shape_at(c, shapes, 1, 0);
    if (x.size() >= 2 && y.size() == 2) {
      uint64_t m = 1;
      for (size_t i = 0; i + 1 < x.size(); ++i) m = product(c, "inputs.shapes", {m, x[i]});
      mm(m, x.back(), y[0], y[1], 1);
    } else if (x.size() == 3 && y.size() == 3 && x[0] == y[0]) {
      mm(x[1], x[2], y[1], y[2], x[0]);
    } else {
      c.fail("inputs.shapes", "aten::matmul of shapes '" + c.node().inputs().shapes() +
                                  "' is not supported (read: [M,K]·[K,N], [B,M,K]·[B,K,N], [...,M,K]·[K,N])");
    }
  } else {
    // convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups);
    // conv2d(input, weight, bias, stride, padding, dilation, groups).
    const auto x = shape_at(c, shapes, 0, 4), w = shape_at(c, shapes, 1, 4);
    const Lit values = c.io(c.node().inputs(), false, "inputs");
    const bool conv2d = name == "aten::conv2d";
    if (!conv2d && values.items.size() > 6 && values.items[6].text == "True")
      c.fail("inputs.values", "transposed convolutions are not supported");
    if (value_at(c, values, 5, "dilation", 1) != 1) c.fail("inputs.values", "dilated convolutions are not supported");
    ConvShape& s = r.conv;
    s.n = x[0], s.c = x[1], s.h = x[2], s.w = x[3], s.k = w[0], s.r = w[2], s.s = w[3];
    s.stride = value_at(c, values, 3, "stride", 1);
    s.pad = value_at(c, values, 4, "padding", 0);
    s.groups = value_at(c, values, conv2d ? 6 : 8, "groups", 1);
    if (s.c % s.groups || s.c / s.groups != w[1])
      c.fail("inputs.shapes", "weight has " + std::to_string(w[1]) + " input channels per group, input has " +
                                  std::to_string(s.c) + " channels in " + std::to_string(s.groups) + " groups");
    finish_conv(c, r, "inputs");
  }
  return r;
}

Phase phase_of(const NodeCtx& c) {
  if (c.has("phase")) {
    Phase p;
    const std::string s = c.str("phase");
    if (!phase_from_string(s, p))
      c.fail("attr.phase",
             "unknown value '" + s + "' (valid: forward, backward_data, backward_weight, recompute, update)");
    return p;
  }
  const std::string& n = c.node().name();
  if (n.find("Optimizer") != std::string::npos || n.find("optimizer") != std::string::npos) return Phase::update;
  if (n.find("Backward") != std::string::npos || n.find("backward") != std::string::npos) return Phase::backward_data;
  return Phase::forward;
}

class Builder {
 public:
  explicit Builder(OpGraph& g) : m_g(g), m_e(elem_bytes(g.dtype)) {}

  uint32_t tensor(const std::string& name, uint64_t bytes, TensorRole role) {
    if (m_g.tensors.size() >= limits::get(limits::Id::tensors))
      throw InputError(
          Location{m_g.name}, "",
          limits::exceeded(limits::Id::tensors, "too many tensors: more than " + std::to_string(m_g.tensors.size())));
    return add_tensor(m_g, name, bytes, role);
  }

  /// The op of one COMP / MEM node; `caller`: the aten op that called it (its work is
  /// counted there), or null.
  Op op_of(const NodeCtx& c, const pb::Node* caller) {
    const pb::Node& n = c.node();
    Op op;
    op.id = uint32_t(m_g.ops.size());
    op.layer = n.name().empty() ? "node" + std::to_string(n.id()) : n.name();
    op.name = op.layer + "#" + std::to_string(n.id());
    op.dtype = m_g.dtype;
    op.phase = phase_of(c);
    op.kind = OpKind::elementwise;
    op.detail = n.name();
    if (n.type() == pb::MEM_LOAD_NODE || n.type() == pb::MEM_STORE_NODE) {
      const bool load = n.type() == pb::MEM_LOAD_NODE;
      const uint32_t t = tensor(op.name + ".tensor", c.u64("tensor_size", true, 0, 1), TensorRole::activation);
      (load ? op.reads : op.writes).push_back(t);
      op.detail = load ? "mem_load" : "mem_store";
      return op;
    }
    if (caller) {
      op.detail = n.name() + " in " + caller->name() + "#" + std::to_string(caller->id());  // no work of its own
      return op;
    }
    const Compute k = compute_of(c);
    if (k.matched) {
      op.kind = k.kind;
      op.gemm = k.gemm;
      op.conv = k.conv;
      const GemmDims& d = op.gemm;
      const ConvShape& cv = k.conv;
      const std::string& f = k.field;
      op.macs = product(c, f, {d.m, d.n, d.k, d.batch});
      const bool fwd = op.phase == Phase::forward;
      const uint64_t in_bytes = k.kind == OpKind::conv ? product(c, f, {cv.n, cv.c, cv.h, cv.w, m_e})
                                                       : product(c, f, {d.batch, d.m, d.k, m_e});
      const uint64_t w_bytes = k.kind == OpKind::conv ? product(c, f, {cv.k, cv.c / cv.groups, cv.r, cv.s, m_e})
                                                      : product(c, f, {d.batch, d.k, d.n, m_e});
      op.reads = {tensor(op.name + ".a", in_bytes, fwd ? TensorRole::activation : TensorRole::gradient),
                  tensor(op.name + ".b", w_bytes, fwd ? TensorRole::weight : TensorRole::activation)};
      op.writes = {tensor(op.name + ".out", product(c, f, {d.batch, d.m, d.n, m_e}),
                          fwd ? TensorRole::activation : TensorRole::gradient)};
      return op;
    }
    // Any other computation: elementwise over its tensors, from the shapes or tensor_size.
    const Lit in = c.io(n.inputs(), true, "inputs"), out = c.io(n.outputs(), true, "outputs");
    for (size_t i = 0; i < in.items.size(); ++i)
      if (const uint64_t el = tensor_elements(c, "inputs.shapes", in.items[i]))
        op.reads.push_back(tensor(op.name + ".in" + std::to_string(i), product(c, "inputs.shapes", {el, m_e}),
                                  TensorRole::activation));
    for (size_t i = 0; i < out.items.size(); ++i)
      if (const uint64_t el = tensor_elements(c, "outputs.shapes", out.items[i])) {
        op.writes.push_back(tensor(op.name + ".out" + std::to_string(i), product(c, "outputs.shapes", {el, m_e}),
                                   TensorRole::activation));
        op.elements = sum_or_throw(c.loc(), c.key("outputs.shapes"), {op.elements, el});
      }
    if (op.reads.empty() && op.writes.empty() && c.has("tensor_size")) {
      const uint64_t bytes = c.u64("tensor_size", true);
      op.reads.push_back(tensor(op.name + ".tensor", bytes, TensorRole::activation));
      op.elements = bytes / m_e;
    }
    op.flops = c.u64("num_ops", false);
    return op;
  }

 private:
  OpGraph& m_g;
  uint64_t m_e;
};

struct Dep {
  size_t index;
  const char* field;
};

}  // namespace

std::shared_ptr<OpGraph> read_chakra_et(const std::string& bytes, const std::string& file, const ChakraOptions& opt) {
  namespace io = google::protobuf::io;
  if (bytes.size() > size_t(INT_MAX)) throw InputError(Location{file}, "", "file too large (over 2 GiB)");
  const int size = int(bytes.size());
  io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), size);
  pb::GlobalMetadata meta;
  std::vector<pb::Node> nodes;
  // Length-delimited messages: varint32 length, then that many bytes, GlobalMetadata first
  // (Chakra's writer: encodeMessage in mlcommons/chakra src/third_party/utils/protolib.py).
  for (size_t msg = 0; in.CurrentPosition() < size; ++msg) {
    const std::string what = msg == 0 ? "global_metadata" : "node[" + std::to_string(msg - 1) + "]";
    const int at = in.CurrentPosition();
    uint32_t len = 0;
    if (!in.ReadVarint32(&len))
      throw InputError(Location{file}, what,
                       "bad message length varint at byte " + std::to_string(at) + " (truncated or corrupt file)");
    if (len > uint32_t(size - in.CurrentPosition()))
      throw InputError(Location{file}, what,
                       "truncated file: the message at byte " + std::to_string(at) + " claims " + std::to_string(len) +
                           " bytes, " + std::to_string(size - in.CurrentPosition()) + " remain");
    if (msg > limits::get(limits::Id::ops))
      throw InputError(Location{file}, what,
                       limits::exceeded(limits::Id::ops, "too many nodes: more than " + std::to_string(msg - 1)));
    const io::CodedInputStream::Limit limit = in.PushLimit(int(len));
    bool ok;
    if (msg == 0) {
      ok = meta.ParseFromCodedStream(&in);
    } else {
      nodes.emplace_back();
      ok = nodes.back().ParseFromCodedStream(&in);
    }
    ok = ok && in.ConsumedEntireMessage();
    in.PopLimit(limit);
    if (!ok)
      throw InputError(Location{file}, what,
                       "cannot parse the " + std::string(msg == 0 ? "GlobalMetadata" : "Node") + " message at byte " +
                           std::to_string(at) + " (corrupt protobuf)");
  }
  if (size == 0)
    throw InputError(Location{file}, "global_metadata", "empty file (a Chakra trace starts with GlobalMetadata)");
  if (nodes.empty()) throw InputError(Location{file}, "", "no nodes after the GlobalMetadata");

  // Ids, dependencies (data_deps ∪ ctrl_deps), then a topological order: among ready
  // nodes the earliest in the file first, so an already ordered file keeps its order.
  std::map<uint64_t, size_t> index_of;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (!index_of.emplace(nodes[i].id(), i).second)
      NodeCtx(file, i, nodes[i])
          .fail("id", "duplicate node id (node[" + std::to_string(index_of[nodes[i].id()]) + "] has it too)");
  std::vector<std::vector<Dep>> deps(nodes.size());
  std::vector<std::vector<size_t>> users(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeCtx c(file, i, nodes[i]);
    for (const auto& [field, list] :
         {std::pair<const char*, const google::protobuf::RepeatedField<uint64_t>*>{"data_deps", &nodes[i].data_deps()},
          {"ctrl_deps", &nodes[i].ctrl_deps()}})
      for (uint64_t d : *list) {
        auto it = index_of.find(d);
        if (it == index_of.end()) c.fail(field, "dangling dependency: no node has id " + std::to_string(d));
        if (it->second == i) c.fail(field, "the node depends on itself (a dependency cycle)");
        if (std::none_of(deps[i].begin(), deps[i].end(), [&](const Dep& x) { return x.index == it->second; })) {
          deps[i].push_back(Dep{it->second, field});
          users[it->second].push_back(i);
        }
      }
  }
  std::vector<size_t> waiting(nodes.size()), order;
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (!(waiting[i] = deps[i].size())) ready.push(i);
  while (!ready.empty()) {
    const size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (size_t u : users[i])
      if (--waiting[u] == 0) ready.push(u);
  }
  if (order.size() < nodes.size()) {
    // Every node left waits on another node left: walk those edges until one repeats.
    size_t cur = std::find_if(waiting.begin(), waiting.end(), [](size_t w) { return w > 0; }) - waiting.begin();
    std::vector<size_t> path;
    std::vector<int> seen(nodes.size(), -1);
    while (seen[cur] < 0) {
      seen[cur] = int(path.size());
      path.push_back(cur);
      cur = std::find_if(deps[cur].begin(), deps[cur].end(), [&](const Dep& d) { return waiting[d.index] > 0; })->index;
    }
    std::string ids;
    for (size_t j = size_t(seen[cur]); j < path.size(); ++j) ids += std::to_string(nodes[path[j]].id()) + " -> ";
    const size_t first = path[size_t(seen[cur])];
    const Dep& edge = *std::find_if(deps[first].begin(), deps[first].end(), [&](const Dep& d) {
      return d.index == (size_t(seen[cur]) + 1 < path.size() ? path[size_t(seen[cur]) + 1] : first);
    });
    NodeCtx(file, first, nodes[first])
        .fail(edge.field,
              "dependency cycle: node ids " + ids + std::to_string(nodes[first].id()) + " (each waits on the next)");
  }

  auto g = std::make_shared<OpGraph>();
  g->name = file;
  g->dtype = opt.dtype;
  Builder b(*g);
  std::vector<std::vector<uint32_t>> stands_for(nodes.size());  // op ids a node's users wait on
  for (size_t i : order) {
    const NodeCtx c(file, i, nodes[i]);
    const int type = nodes[i].type();
    std::vector<uint32_t> op_deps;
    for (const Dep& d : deps[i]) op_deps.insert(op_deps.end(), stands_for[d.index].begin(), stands_for[d.index].end());
    std::sort(op_deps.begin(), op_deps.end());
    op_deps.erase(std::unique(op_deps.begin(), op_deps.end()), op_deps.end());
    if (type == pb::METADATA_NODE) {
      stands_for[i] = op_deps;  // no op: its users wait on what it waits on
      continue;
    }
    if (type != pb::COMP_NODE && type != pb::MEM_LOAD_NODE && type != pb::MEM_STORE_NODE) {
      if (!pb::NodeType_IsValid(type) || type == pb::INVALID_NODE)
        c.fail("type", "unknown node type " + std::to_string(type) +
                           " (valid: METADATA_NODE 1, MEM_LOAD_NODE 2, MEM_STORE_NODE 3, COMP_NODE 4)");
      c.fail("type", type_name(type) +
                         " nodes are not supported (bpsim replays one accelerator: "
                         "COMP_NODE, MEM_LOAD_NODE, MEM_STORE_NODE and METADATA_NODE)");
    }
    // A recognised aten op called by another (a ctrl_dep on a wrapper such as aten::linear)
    // is already counted in its caller.
    const pb::Node* caller = nullptr;
    if (type == pb::COMP_NODE && is_aten_compute(nodes[i].name()))
      for (uint64_t d : nodes[i].ctrl_deps())
        if (is_aten_wrapper(nodes[index_of[d]].name())) caller = &nodes[index_of[d]];
    Op op = b.op_of(c, caller);
    op.deps = std::move(op_deps);
    stands_for[i] = {op.id};
    g->ops.push_back(std::move(op));
  }
  if (g->ops.empty()) throw InputError(Location{file}, "", "no COMP or MEM nodes to replay");
  account_imported_memory(*g, file);  // each op's own tensors
  return g;
}

std::shared_ptr<OpGraph> read_chakra_et_file(const std::string& path, const ChakraOptions& opt) {
  // Plain or gzip-compressed (Chakra's own protolib opens .et files either way).
  const std::string bytes = TraceFile(path, "Chakra trace file").read_all(limits::Id::chakra_bytes);
  return read_chakra_et(bytes, path, opt);
}

}  // namespace bpsim::trace
