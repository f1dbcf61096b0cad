#include "sim/trace/trace_io.h"

#include <array>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string_view>

#include <simdjson.h>
#include <nlohmann/json.hpp>

#include "sim/core/checked.h"
#include "sim/core/error.h"
#include "sim/core/limits.h"
#include "sim/ir/liveness.h"
#include "sim/ir/mask_bitmap.h"
#include "sim/trace/import_util.h"
#include "sim/trace/trace_file.h"

using nlohmann::json;

namespace bpsim::trace {

using namespace workload;

namespace {

json mask_json(const OutputMask& m) {
  json j = {{"source", to_string(m.source)}, {"density", m.density}};
  if (m.source == OutputMask::Source::nm) j["n"] = m.nm_n, j["m"] = m.nm_m;
  if (!m.bitmap_file.empty()) j["bitmap"] = m.bitmap_file;
  return j;
}

json op_json(const Op& op) {
  json j = {{"op", op.id},
            {"name", op.name},
            {"layer", op.layer},
            {"phase", to_string(op.phase)},
            {"kind", to_string(op.kind)},
            {"dtype", to_string(op.dtype)}};
  if (!op.detail.empty()) j["detail"] = op.detail;
  if (op.gemm.macs() || op.gemm.m || op.gemm.n || op.gemm.k)
    j["gemm"] = {{"m", op.gemm.m}, {"n", op.gemm.n}, {"k", op.gemm.k}, {"batch", op.gemm.batch}};
  if (op.kind == OpKind::conv) {
    const ConvShape& c = op.conv;
    j["conv"] = {{"n", c.n}, {"c", c.c},           {"h", c.h},     {"w", c.w},           {"k", c.k}, {"r", c.r},
                 {"s", c.s}, {"stride", c.stride}, {"pad", c.pad}, {"groups", c.groups}, {"p", c.p}, {"q", c.q}};
  }
  if (op.elements) j["elements"] = op.elements;
  j["macs"] = op.macs;
  if (op.flops) j["flops"] = op.flops;
  j["reads"] = op.reads;
  j["writes"] = op.writes;
  j["deps"] = op.deps;
  if (op.out_mask.active()) j["mask"] = mask_json(op.out_mask);
  return j;
}

/// Reads fields of one record (a simdjson DOM object), naming file:line and the field in
/// every error.
class Record {
 public:
  /// `path`: the key path of the object within its line ("" for the line's own object,
  /// "gemm." for its gemm field), so that errors name a field by its whole path.
  Record(simdjson::dom::object o, const std::string& file, int line, std::string path = {})
      : m_o(o), m_file(file), m_line(line), m_path(std::move(path)) {}
  const std::string& file() const { return m_file; }
  Location loc() const { return Location{m_file, m_line, 0}; }
  [[noreturn]] void fail(std::string_view field, const std::string& msg) const {
    throw InputError(loc(), m_path + std::string(field), msg);
  }
  /// x0·x1·… (x0 + x1 + …) of sizes in `field`, an error there when it overflows 64 bits.
  /// The error's location and key are built only then: per op, building them first was a
  /// fiftieth of a trace replay.
  uint64_t product(const char* field, std::initializer_list<uint64_t> xs) const {
    return product_or(xs, [&](const std::string& m) { fail(field, m); });
  }
  uint64_t sum(const char* field, std::initializer_list<uint64_t> xs) const {
    return sum_or(xs, [&](const std::string& m) { fail(field, m); });
  }
  /// Fails on the first field not in `keys` or given twice (JSON allows a repeated key but
  /// does not say which value counts), and keeps each key's value, so that the lookups after
  /// it read a slot instead of searching the object key by key (once per field of every
  /// record: a sixth of a trace replay's instructions went to those searches).
  /// String views, not C strings: their lengths are known at compile time, so most keys
  /// differ at the length check.
  void allow(std::initializer_list<std::string_view> keys) const {
    if (keys.size() > kMaxKeys) throw std::logic_error("trace Record::allow: more keys than slots");
    m_nkeys = 0, m_set = 0, m_hint = 0;
    for (const std::string_view a : keys) m_keys[m_nkeys++] = a;
    size_t j = 0;  // from the key after the last field's: writers mostly keep this order
    for (const auto field : m_o) {
      size_t n = 0;
      for (; n < m_nkeys && !same_key(field.key, m_keys[j]); ++n) j = next_key(j);
      if (n == m_nkeys) {
        std::string list;
        for (const std::string_view a : keys) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(std::string(field.key), "unknown field (valid: " + list + ")");
      }
      if (m_set >> j & 1) fail(std::string(field.key), "duplicate key: the field is given twice in this record");
      m_slot[j] = field.value, m_set |= uint32_t(1) << j;
      j = next_key(j);
    }
  }
  bool has(std::string_view k) const {
    simdjson::dom::element v;
    return find(k, v);
  }
  uint64_t u64(std::string_view k, bool required = true, uint64_t def = 0) const {
    simdjson::dom::element v;
    if (!find(k, v)) {
      if (required) fail(k, "missing field (a non-negative integer)");
      return def;
    }
    uint64_t out = 0;
    if (!unsigned_of(v, out)) fail(k, "expected a non-negative integer, found " + text(v));
    return out;
  }
  /// An optional integer that must fit in 32 bits (no silent truncation).
  uint32_t u32(std::string_view k) const {
    const uint64_t v = u64(k, false);
    if (v > UINT32_MAX) fail(k, "expected an integer below 2^32, found one of 2^32 or more");
    return uint32_t(v);
  }
  double num(std::string_view k, double def) const {
    simdjson::dom::element v;
    if (!find(k, v)) return def;
    double d = 0;
    if (!v.is_number() || v.get_double().get(d) != simdjson::SUCCESS) fail(k, "expected a number, found " + text(v));
    return d;
  }
  std::string str(std::string_view k, bool required = true) const {
    simdjson::dom::element v;
    if (!find(k, v)) {
      if (required) fail(k, "missing field (a string)");
      return "";
    }
    std::string_view sv;
    if (v.get_string().get(sv) != simdjson::SUCCESS) fail(k, "expected a string, found " + text(v));
    return std::string(sv);
  }
  /// The list `k` into `out` (cleared first: a caller may reuse its buffer).
  void ids(std::string_view k, std::vector<uint32_t>& out) const {
    out.clear();
    simdjson::dom::element v;
    if (!find(k, v)) return;
    simdjson::dom::array a;
    if (v.get_array().get(a) != simdjson::SUCCESS) fail(k, "expected a list of ids");
    for (const simdjson::dom::element x : a) {
      uint64_t id = 0;
      if (!unsigned_of(x, id) || id > UINT32_MAX)
        fail(k, "expected a list of ids (integers below 2^32), found " +
                    (unsigned_of(x, id) ? "an id of 2^32 or more" : text(x)));
      out.push_back(static_cast<uint32_t>(id));
    }
  }
  Record sub(std::string_view k) const {
    simdjson::dom::element v;
    simdjson::dom::object o;
    if (!find(k, v) || v.get_object().get(o) != simdjson::SUCCESS) fail(k, "expected an object");
    return Record(o, m_file, m_line, m_path + std::string(k) + ".");
  }
  template <typename E>
  E enumerated(std::string_view k, bool (*parse)(const std::string&, E&), const char* valid) const {
    E e{};
    std::string s = str(k);
    if (!parse(s, e)) fail(k, "unknown value '" + s + "' (valid: " + valid + ")");
    return e;
  }

 private:
  /// Keys are a few bytes: compared inline, not by a call to memcmp per candidate of the
  /// same length (most keys of an op record have four letters).
  static bool same_key(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  /// The key after key j of allow()'s list, round the end: lookups and fields mostly come in
  /// the list's order, so a search starts after the last match.
  size_t next_key(size_t j) const { return j + 1 == m_nkeys ? 0 : j + 1; }
  /// Field `k`: from the slots once allow() has run (a key it does not list is absent, or
  /// allow() would have failed), else from the object.
  bool find(std::string_view k, simdjson::dom::element& v) const {
    if (m_nkeys == 0) return m_o.at_key(k).get(v) == simdjson::SUCCESS;
    // From the key after the last one found: readers ask for fields in the order allow()
    // lists them, so the first key tried is mostly the one (the same literal, mostly).
    for (size_t n = 0, j = m_hint; n < m_nkeys; ++n, j = next_key(j))
      if (m_keys[j].data() == k.data() || same_key(m_keys[j], k)) {
        m_hint = next_key(j);
        if (!(m_set >> j & 1)) return false;
        v = m_slot[j];
        return true;
      }
    return false;
  }
  /// A JSON integer ≥ 0 (simdjson types those below 2^63 as int64).
  static bool unsigned_of(const simdjson::dom::element& v, uint64_t& out) {
    if (v.is_uint64()) return v.get_uint64().get(out) == simdjson::SUCCESS;
    int64_t i = 0;
    if (v.type() != simdjson::dom::element_type::INT64 || v.get_int64().get(i) != simdjson::SUCCESS || i < 0)
      return false;
    out = uint64_t(i);
    return true;
  }
  /// What a value is, never the value itself: errors about an input do not echo its content.
  static std::string text(const simdjson::dom::element& v) {
    using T = simdjson::dom::element_type;
    switch (v.type()) {
      case T::ARRAY: return "a list";
      case T::OBJECT: return "an object";
      case T::INT64: return v.get_int64().value_unsafe() < 0 ? "a negative integer" : "an integer";
      case T::UINT64: return "an integer of 2^63 or more";
      case T::DOUBLE: return "a number with a fraction or exponent";
      case T::STRING: return "a string";
      case T::BOOL: return "true or false";
      case T::NULL_VALUE: return "null";
    }
    return "another value";
  }

  simdjson::dom::object m_o;
  const std::string& m_file;
  int m_line;
  std::string m_path;
  /// What allow() keeps: its keys (m_nkeys of them; none before it runs) and, where m_set has
  /// bit j, key j's value (a cache of the object's fields, hence mutable).
  static constexpr size_t kMaxKeys = 16;
  /// Not value-initialised (half a kilobyte per record, cleared for every record and
  /// sub-record): allow() writes a key before it is read, and a slot before its bit in m_set
  /// is set.
  mutable std::array<std::string_view, kMaxKeys> m_keys;
  mutable std::array<simdjson::dom::element, kMaxKeys> m_slot;
  mutable size_t m_nkeys = 0, m_hint = 0;
  mutable uint32_t m_set = 0;
};

bool mask_source_from_string(const std::string& s, OutputMask::Source& out) {
  for (int i = 0; i <= static_cast<int>(OutputMask::Source::bitmap); ++i)
    if (s == to_string(static_cast<OutputMask::Source>(i))) {
      out = static_cast<OutputMask::Source>(i);
      return true;
    }
  return false;
}

bool role_from_string(const std::string& s, TensorRole& out) {
  for (int i = 0; i <= static_cast<int>(TensorRole::mask); ++i)
    if (s == to_string(static_cast<TensorRole>(i))) {
      out = static_cast<TensorRole>(i);
      return true;
    }
  return false;
}

/// A bitmap mask: its file (relative to the trace's folder) must hold the op's M×N outputs;
/// the density follows from it, so models that only use densities see the same mask.
void read_bitmap(const Record& m, Op& op) {
  if (op.out_mask.bitmap_file.empty()) m.fail("bitmap", "a bitmap mask needs its file: bitmap: FILE");
  if (op.gemm.m == 0 || op.gemm.n == 0) m.fail("bitmap", "a bitmap mask needs the op's gemm dims (M×N outputs)");
  std::filesystem::path p(op.out_mask.bitmap_file);
  if (p.is_relative()) p = std::filesystem::path(m.file()).parent_path() / p;
  op.out_mask.bitmap_file = p.string();
  try {
    op.out_mask.bitmap = read_mask_bitmap(op.out_mask.bitmap_file, op.gemm.m, op.gemm.n);
    op.out_mask.density = double(op.out_mask.bitmap->needed_total()) / (double(op.gemm.m) * double(op.gemm.n));
  } catch (const InputError& e) {
    m.fail("bitmap", e.what());
  }
}

TensorRole role_or_default(const Record& r) {
  return r.has("role") ? r.enumerated<TensorRole>("role", role_from_string,
                                                  "input, weight, activation, saved, gradient, "
                                                  "weight_gradient, optimizer_state, workspace, mask")
                       : TensorRole::activation;
}

/// Every size a model derives from a GEMM (operand and result bytes, MACs) fits in 64 bits:
/// the product of all its dims and the element size does (a zero dim counted as 1, so it
/// cannot hide the overflow of the others).
uint64_t nz(uint64_t x) { return std::max<uint64_t>(x, 1); }

void check_gemm_sizes(const Record& s, const Op& op) {
  const GemmDims& d = op.gemm;
  s.product("m", {nz(d.m), nz(d.n), nz(d.k), nz(d.batch), elem_bytes(op.dtype)});
}

/// The input, weight and output bytes of a convolution fit in 64 bits.
void check_conv_sizes(const Record& s, const Op& op) {
  const ConvShape& c = op.conv;
  const uint64_t e = elem_bytes(op.dtype);
  s.product("c", {nz(c.n), nz(c.c), nz(c.h), nz(c.w), e});
  s.product("k", {nz(c.k), nz(c.c), nz(c.r), nz(c.s), e});
  s.product("p", {nz(c.n), nz(c.k), nz(c.p), nz(c.q), e});
}

void read_op(const Record& r, Op& op, uint32_t expected_id, DType default_dtype,
             const std::function<bool(uint32_t)>& declared) {
  r.allow({"op", "name", "layer", "phase", "kind", "detail", "dtype", "gemm", "conv", "elements", "macs", "flops",
           "reads", "writes", "deps", "mask"});
  // A streamed trace reads every op into one Op: its id lists keep their buffers.
  std::vector<uint32_t> reads = std::move(op.reads), writes = std::move(op.writes), deps = std::move(op.deps);
  op = Op{};
  op.reads = std::move(reads);
  op.writes = std::move(writes);
  op.deps = std::move(deps);
  if (r.u64("op") != expected_id)
    r.fail("op", "ops are numbered 0, 1, 2… in order; expected " + std::to_string(expected_id));
  op.id = expected_id;
  op.name = r.str("name");
  op.layer = r.str("layer", false);
  op.phase =
      r.enumerated<Phase>("phase", phase_from_string, "forward, backward_data, backward_weight, recompute, update");
  op.kind = r.enumerated<OpKind>("kind", op_kind_from_string,
                                 "gemm, conv, xnor_gemm, elementwise, reduction, normalization, softmax, pool, "
                                 "embedding, bitwise, optimizer");
  op.detail = r.str("detail", false);
  op.dtype = r.has("dtype") ? r.enumerated<DType>("dtype", dtype_from_string, "fp32, bf16, fp16, int8, binary")
                            : default_dtype;
  if (r.has("gemm")) {
    Record s = r.sub("gemm");
    s.allow({"m", "n", "k", "batch"});
    op.gemm = GemmDims{s.u64("m"), s.u64("n"), s.u64("k"), s.u64("batch", false, 1)};
    check_gemm_sizes(s, op);
  } else if (op.kind == OpKind::gemm || op.kind == OpKind::conv || op.kind == OpKind::xnor_gemm) {
    r.fail("gemm", std::string("missing field (a ") + to_string(op.kind) + " op needs {m, n, k})");
  }
  if (r.has("conv")) {
    Record s = r.sub("conv");
    s.allow({"n", "c", "h", "w", "k", "r", "s", "stride", "pad", "groups", "p", "q"});
    op.conv = ConvShape{s.u64("n"),
                        s.u64("c"),
                        s.u64("h"),
                        s.u64("w"),
                        s.u64("k"),
                        s.u64("r"),
                        s.u64("s"),
                        s.u64("stride", false, 1),
                        s.u64("pad", false, 0),
                        s.u64("groups", false, 1),
                        s.u64("p"),
                        s.u64("q")};
    check_conv_sizes(s, op);
  }
  op.elements = r.u64("elements", false);
  r.product("elements", {op.elements, elem_bytes(op.dtype)});
  op.macs = r.u64("macs", false, op.gemm.macs());
  op.flops = r.u64("flops", false);
  r.ids("reads", op.reads);
  r.ids("writes", op.writes);
  for (const auto& [f, list] :
       {std::pair<const char*, const std::vector<uint32_t>*>{"reads", &op.reads}, {"writes", &op.writes}})
    for (uint32_t t : *list)
      if (!declared(t)) r.fail(f, "tensor " + std::to_string(t) + " is not declared before this op");
  r.ids("deps", op.deps);
  for (uint32_t d : op.deps)
    if (d >= op.id)
      r.fail("deps", "op " + std::to_string(d) +
                         (d == op.id ? " is this op itself" : " is not defined before this op") +
                         ": a dependency cycle or a dangling dependency (ops must come in execution order)");
  if (r.has("mask")) {
    Record m = r.sub("mask");
    m.allow({"source", "density", "n", "m", "bitmap"});
    op.out_mask.source =
        m.enumerated<OutputMask::Source>("source", mask_source_from_string, "none, relu, pruned, nm, random, bitmap");
    op.out_mask.density = m.num("density", 1.0);
    if (op.out_mask.density < 0 || op.out_mask.density > 1) m.fail("density", "must be in [0, 1]");
    op.out_mask.nm_n = m.u32("n");
    op.out_mask.nm_m = m.u32("m");
    op.out_mask.bitmap_file = m.str("bitmap", false);
    if (op.out_mask.source == OutputMask::Source::bitmap) read_bitmap(m, op);
  }
}

json tensor_json(const Tensor& x) {
  json j{{"tensor", x.id}, {"name", x.name}, {"bytes", x.bytes}, {"role", to_string(x.role)}};
  if (x.bits) j["bits"] = x.bits;  // an integer tensor (a binary layer's pre-activation)
  return j;
}

/// Reads a trace record by record: the header, tensor declarations and alloc/free events
/// are taken in; each op is returned. Holds per tensor its bytes and two flags, nothing
/// per op, so memory does not grow with the op count. With `keep`, the tensors' records
/// are also collected into a graph.
class TraceReader {
 public:
  TraceReader(std::istream& in, std::string file, OpGraph* keep, std::function<void()> at_end = {})
      : m_file(std::move(file)),
        m_lines(in, m_file, limits::Id::trace_bytes),
        m_keep(keep),
        m_at_end(std::move(at_end)) {}

  /// The next op into `op`; false at the end of the trace (after the end checks).
  bool next(Op& op) {
    while (m_lines.next(m_line)) {
      m_n = m_lines.line();
      if (m_line.empty() || m_line.find_first_not_of(" \t\r") == std::string::npos) continue;
      // simdjson reads up to SIMDJSON_PADDING bytes past the text; with that much spare
      // capacity it parses the line in place instead of copying it into a padded buffer.
      if (m_line.capacity() - m_line.size() < simdjson::SIMDJSON_PADDING)
        m_line.reserve(m_line.size() + simdjson::SIMDJSON_PADDING);
      simdjson::dom::element j;
      if (m_parser.parse(m_line).get(j) != simdjson::SUCCESS)
        throw InputError(Location{m_file, m_n, 0}, "", "malformed JSON");
      simdjson::dom::object o;
      if (j.get_object().get(o) != simdjson::SUCCESS)
        throw InputError(Location{m_file, m_n, 0}, "", "expected a JSON object per line");
      Record r(o, m_file, m_n);
      if (!m_have_header) {
        header(r);
      } else if (r.has("op")) {
        close_forward();
        if (m_ops >= std::min<uint64_t>(limits::get(limits::Id::ops), UINT32_MAX))
          r.fail("op", limits::exceeded(limits::Id::ops, "too many ops: more than " + std::to_string(m_ops)));
        read_op(r, op, m_ops, m_dtype, [this](uint32_t t) { return declared(t); });
        ++m_ops;
        m_macs = r.sum("macs", {m_macs, op.macs});  // the report's total
        if (m_events) m_peak = std::max(m_peak, m_live);
        m_after_forward = op.phase == Phase::forward;
        return true;
      } else if (r.has("tensor")) {
        tensor(r);
      } else if (r.has("alloc") || r.has("free")) {
        event(r, r.has("alloc"));
      } else {
        throw InputError(Location{m_file, m_n, 0}, "",
                         "expected a record with \"tensor\", \"op\", \"alloc\" or \"free\"");
      }
    }
    if (m_at_end) m_at_end();
    finish();
    return false;
  }

  bool declared(uint32_t t) const { return t < m_declared.size() && m_declared[t]; }
  uint64_t tensor_bytes(uint32_t t) const { return t < m_bytes.size() ? m_bytes[t] : 0; }
  const MemorySummary& memory() const { return m_memory; }
  DType dtype() const { return m_dtype; }
  const std::string& name() const { return m_name; }
  uint64_t batch() const { return m_batch; }

 private:
  void header(const Record& r) {
    r.allow({"format", "version", "name", "dtype", "batch", "units", "memory"});
    if (r.str("format") != "bpsim-trace") r.fail("format", "expected \"bpsim-trace\" on the first line");
    if (r.u64("version") != static_cast<uint64_t>(kFormatVersion))
      r.fail("version", "unsupported trace version (this bpsim reads version " + std::to_string(kFormatVersion) + ")");
    m_name = r.str("name", false);
    m_dtype = r.has("dtype") ? r.enumerated<DType>("dtype", dtype_from_string, "fp32, bf16, fp16, int8, binary")
                             : DType::fp32;
    m_batch = r.u64("batch", false, 1);
    if (r.has("units")) {
      // The units a trace is written in are fixed; a header that states others would have its
      // sizes read wrongly, so it is refused rather than taken as documentation.
      Record u = r.sub("units");
      u.allow({"bytes", "dims"});
      if (u.has("bytes") && u.str("bytes") != "B")
        u.fail("bytes", "a trace gives sizes in bytes: expected \"B\" (or no units field)");
      if (u.has("dims") && u.str("dims") != "elements")
        u.fail("dims", "a trace gives dimensions in elements: expected \"elements\" (or no units field)");
    }
    if (r.has("memory")) {
      Record m = r.sub("memory");
      m.allow({"policy", "saved_after_forward_bytes", "peak_bytes"});
      m_memory.policy = m.str("policy", false);
      if (m_memory.policy.empty()) m_memory.policy = "none";
      m_header_saved = m.has("saved_after_forward_bytes");
      m_header_peak = m.has("peak_bytes");
      m_memory.saved_after_forward_bytes = m.u64("saved_after_forward_bytes", false);
      m_memory.peak_bytes = m.u64("peak_bytes", false);
    }
    m_header_line = m_n;
    m_have_header = true;
  }

  void tensor(const Record& r) {
    r.allow({"tensor", "name", "bytes", "role", "bits"});
    // Ids index the reader's tables, so an id (not only the count) must stay below the
    // limit: one record cannot make them huge.
    const uint64_t id = r.u64("tensor"), max = std::min<uint64_t>(limits::get(limits::Id::tensors), UINT32_MAX);
    if (id >= max)
      r.fail("tensor", limits::exceeded(limits::Id::tensors,
                                        "tensor id " + std::to_string(id) + " is not below the tensor limit"));
    Tensor t;
    t.id = uint32_t(id);
    t.name = r.str("name", false);
    t.bytes = r.u64("bytes");
    t.role = role_or_default(r);
    t.bits = r.u32("bits");
    if (t.bits > 64) r.fail("bits", "an integer tensor's width is 1..64 bits (0 or absent: the dtype's)");
    if (declared(t.id)) r.fail("tensor", "tensor " + std::to_string(t.id) + " declared twice");
    if (t.id >= m_declared.size()) {
      m_declared.resize(t.id + 1, false);
      m_bytes.resize(t.id + 1, 0);
      m_live_set.resize(t.id + 1, false);
    }
    m_declared[t.id] = true;
    m_bytes[t.id] = t.bytes;
    ++m_count;
    if (m_keep) m_kept.push_back(std::move(t));  // placed by id at the end, once ids are known dense
  }

  /// alloc: the tensor becomes live just before the next op; free: it dies after the last.
  void event(const Record& r, bool alloc) {
    const char* field = alloc ? "alloc" : "free";
    r.allow({field});
    const uint64_t id = r.u64(field);
    if (id > UINT32_MAX || !declared(uint32_t(id)))
      r.fail(field, "tensor " + std::to_string(id) + " is not declared before this record");
    const uint32_t t = uint32_t(id);
    if (alloc) close_forward();
    if (alloc == bool(m_live_set[t]))
      r.fail(field, "tensor " + std::to_string(t) + (alloc ? " is already allocated" : " is not allocated"));
    m_live_set[t] = alloc;
    m_live = alloc ? r.sum(field, {m_live, m_bytes[t]}) : m_live - m_bytes[t];
    m_events = true;
  }

  /// After the forward pass's last op and its frees: what the forward pass leaves saved.
  void close_forward() {
    if (m_after_forward) m_saved = m_live;
    m_after_forward = false;
  }

  void finish() {
    if (!m_have_header)
      throw InputError(Location{m_file, m_n, 0}, "", "empty trace (the first line must be the header)");
    if (m_count != m_declared.size())
      for (uint32_t t = 0; t < m_declared.size(); ++t)
        if (!m_declared[t])
          throw InputError(Location{m_file, m_n, 0}, "tensor",
                           "tensor ids must be 0, 1, 2… without gaps; missing " + std::to_string(t));
    if (m_keep) {
      m_keep->tensors.resize(m_count);
      for (Tensor& t : m_kept) m_keep->tensors[t.id] = std::move(t);
      m_kept.clear();
    }
    close_forward();
    if (!m_events) return;
    // The accounting follows the events; numbers the header also gives must agree.
    auto agree = [&](bool given, uint64_t header, uint64_t events, const char* field) {
      if (given && header != events)
        throw InputError(Location{m_file, m_header_line, 0}, std::string("memory.") + field,
                         "the header says " + std::to_string(header) + " but the trace's alloc/free events give " +
                             std::to_string(events));
    };
    agree(m_header_saved, m_memory.saved_after_forward_bytes, m_saved, "saved_after_forward_bytes");
    agree(m_header_peak, m_memory.peak_bytes, m_peak, "peak_bytes");
    m_memory.saved_after_forward_bytes = m_saved;
    m_memory.peak_bytes = m_peak;
  }

  std::string m_file;
  LineReader m_lines;
  OpGraph* m_keep;
  std::vector<Tensor> m_kept;  ///< with m_keep: tensors in the order declared
  std::function<void()> m_at_end;
  simdjson::dom::parser m_parser;
  std::string m_line;
  int m_n = 0, m_header_line = 0;
  bool m_have_header = false;
  std::string m_name;
  DType m_dtype = DType::fp32;
  uint64_t m_batch = 1;
  MemorySummary m_memory;
  bool m_header_saved = false, m_header_peak = false;
  std::vector<bool> m_declared, m_live_set;
  std::vector<uint64_t> m_bytes;
  uint64_t m_count = 0;  ///< tensors declared
  uint32_t m_ops = 0;
  bool m_events = false, m_after_forward = false;
  uint64_t m_live = 0, m_peak = 0, m_saved = 0;
  uint64_t m_macs = 0;  ///< Σ op MACs so far: it must fit, as the report's total
};

}  // namespace

void write_trace(const OpGraph& g, std::ostream& out) {
  json header = {{"format", "bpsim-trace"},
                 {"version", kFormatVersion},
                 {"name", g.name},
                 {"dtype", to_string(g.dtype)},
                 {"batch", g.batch},
                 {"units", {{"bytes", "B"}, {"dims", "elements"}}},
                 {"memory",
                  {{"policy", g.memory.policy},
                   {"saved_after_forward_bytes", g.memory.saved_after_forward_bytes},
                   {"peak_bytes", g.memory.peak_bytes}}}};
  out << header.dump() << "\n";
  const LiveEvents ev = live_events(g);
  std::vector<bool> written(g.tensors.size(), false);
  for (const Op& op : g.ops) {
    for (const auto* list : {&op.reads, &op.writes})
      for (uint32_t t : *list)
        if (!written[t]) {
          out << tensor_json(g.tensors[t]).dump() << "\n";
          written[t] = true;
        }
    for (uint32_t t : ev.alloc_before[op.id]) out << "{\"alloc\":" << t << "}\n";
    out << op_json(op).dump() << "\n";
    for (uint32_t t : ev.free_after[op.id]) out << "{\"free\":" << t << "}\n";
  }
  // Tensors no op touches still belong to the graph (ids must stay dense).
  for (const Tensor& x : g.tensors)
    if (!written[x.id]) out << tensor_json(x).dump() << "\n";
}

namespace {

std::shared_ptr<OpGraph> read_all(std::istream& in, const std::string& file, std::function<void()> at_end) {
  auto g = std::make_shared<OpGraph>();
  TraceReader reader(in, file, g.get(), std::move(at_end));
  Op op;
  while (reader.next(op)) g->ops.push_back(std::move(op));
  g->name = reader.name();
  g->dtype = reader.dtype();
  g->batch = reader.batch();
  g->memory = reader.memory();
  return g;
}

/// A trace replayed as it is read: one op in memory at a time.
class TraceStream final : public OpStream {
 public:
  explicit TraceStream(const std::string& path)
      : m_file(path), m_reader(m_file.in(), path, nullptr, [this] { m_file.check_end(); }) {}
  const Op* next() override { return m_reader.next(m_op) ? &m_op : nullptr; }
  uint64_t tensor_bytes(uint32_t id) const override { return m_reader.tensor_bytes(id); }
  MemorySummary memory() const override { return m_reader.memory(); }

 private:
  TraceFile m_file;
  TraceReader m_reader;
  Op m_op;
};

}  // namespace

std::shared_ptr<OpGraph> read_trace(std::istream& in, const std::string& file) { return read_all(in, file, {}); }

std::shared_ptr<OpGraph> read_trace_file(const std::string& path) {
  TraceFile f(path);
  return read_all(f.in(), path, [&f] { f.check_end(); });
}

std::unique_ptr<OpStream> open_trace_stream(const std::string& path) { return std::make_unique<TraceStream>(path); }

}  // namespace bpsim::trace
