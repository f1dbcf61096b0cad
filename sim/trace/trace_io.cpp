#include "sim/trace/trace_io.h"

#include <filesystem>
#include <fstream>
#include <istream>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <streambuf>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include "sim/core/error.h"
#include "sim/workload/mask_bitmap.h"

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
  json j = {{"op", op.id}, {"name", op.name}, {"layer", op.layer}, {"phase", to_string(op.phase)},
            {"kind", to_string(op.kind)}, {"dtype", to_string(op.dtype)}};
  if (!op.detail.empty()) j["detail"] = op.detail;
  if (op.gemm.macs() || op.gemm.m || op.gemm.n || op.gemm.k)
    j["gemm"] = {{"m", op.gemm.m}, {"n", op.gemm.n}, {"k", op.gemm.k}, {"batch", op.gemm.batch}};
  if (op.kind == OpKind::conv) {
    const ConvShape& c = op.conv;
    j["conv"] = {{"n", c.n}, {"c", c.c}, {"h", c.h}, {"w", c.w}, {"k", c.k}, {"r", c.r}, {"s", c.s},
                 {"stride", c.stride}, {"pad", c.pad}, {"groups", c.groups}, {"p", c.p}, {"q", c.q}};
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

/// Reads fields of one record, naming file:line and the field in every error.
class Record {
 public:
  Record(const json& j, const std::string& file, int line) : m_j(j), m_file(file), m_line(line) {}
  const std::string& file() const { return m_file; }
  [[noreturn]] void fail(const std::string& field, const std::string& msg) const {
    throw InputError(Location{m_file, m_line, 0}, field, msg);
  }
  void allow(std::initializer_list<const char*> keys) const {
    for (const auto& [k, v] : m_j.items()) {
      bool ok = false;
      for (const char* a : keys) ok = ok || k == a;
      if (!ok) {
        std::string list;
        for (const char* a : keys) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(k, "unknown field (valid: " + list + ")");
      }
    }
  }
  bool has(const char* k) const { return m_j.contains(k); }
  uint64_t u64(const char* k, bool required = true, uint64_t def = 0) const {
    if (!m_j.contains(k)) {
      if (required) fail(k, "missing field (a non-negative integer)");
      return def;
    }
    const json& v = m_j[k];
    if (!v.is_number_unsigned()) fail(k, "expected a non-negative integer, found " + v.dump());
    return v.get<uint64_t>();
  }
  double num(const char* k, double def) const {
    if (!m_j.contains(k)) return def;
    if (!m_j[k].is_number()) fail(k, "expected a number, found " + m_j[k].dump());
    return m_j[k].get<double>();
  }
  std::string str(const char* k, bool required = true) const {
    if (!m_j.contains(k)) {
      if (required) fail(k, "missing field (a string)");
      return "";
    }
    if (!m_j[k].is_string()) fail(k, "expected a string, found " + m_j[k].dump());
    return m_j[k].get<std::string>();
  }
  std::vector<uint32_t> ids(const char* k) const {
    std::vector<uint32_t> out;
    if (!m_j.contains(k)) return out;
    if (!m_j[k].is_array()) fail(k, "expected a list of ids");
    for (const auto& v : m_j[k]) {
      if (!v.is_number_unsigned() || v.get<uint64_t>() > UINT32_MAX) fail(k, "expected a list of ids, found " + v.dump());
      out.push_back(v.get<uint32_t>());
    }
    return out;
  }
  Record sub(const char* k) const {
    if (!m_j[k].is_object()) fail(k, "expected an object");
    return Record(m_j[k], m_file, m_line);
  }
  template <typename E>
  E enumerated(const char* k, bool (*parse)(const std::string&, E&), const char* valid) const {
    E e{};
    std::string s = str(k);
    if (!parse(s, e)) fail(k, "unknown value '" + s + "' (valid: " + valid + ")");
    return e;
  }

 private:
  const json& m_j;
  std::string m_file;
  int m_line;
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
    op.out_mask.density = double(op.out_mask.bitmap->needed_total()) / double(op.gemm.m * op.gemm.n);
  } catch (const InputError& e) {
    m.fail("bitmap", e.what());
  }
}

Op read_op(const Record& r, const OpGraph& g, const std::map<uint32_t, Tensor>& pending) {
  r.allow({"op", "name", "layer", "phase", "kind", "detail", "dtype", "gemm", "conv", "elements", "macs", "flops",
           "reads", "writes", "deps", "mask"});
  Op op;
  op.id = static_cast<uint32_t>(r.u64("op"));
  if (op.id != g.ops.size()) r.fail("op", "ops are numbered 0, 1, 2… in order; expected " + std::to_string(g.ops.size()));
  op.name = r.str("name");
  op.layer = r.str("layer", false);
  op.phase = r.enumerated<Phase>("phase", phase_from_string,
                                 "forward, backward_data, backward_weight, recompute, update");
  op.kind = r.enumerated<OpKind>("kind", op_kind_from_string,
                                 "gemm, conv, xnor_gemm, elementwise, reduction, normalization, softmax, pool, "
                                 "embedding, bitwise, optimizer");
  op.detail = r.str("detail", false);
  op.dtype = r.has("dtype") ? r.enumerated<DType>("dtype", dtype_from_string, "fp32, bf16, fp16, int8, binary") : g.dtype;
  if (r.has("gemm")) {
    Record s = r.sub("gemm");
    s.allow({"m", "n", "k", "batch"});
    op.gemm = GemmDims{s.u64("m"), s.u64("n"), s.u64("k"), s.u64("batch", false, 1)};
  } else if (op.kind == OpKind::gemm || op.kind == OpKind::conv || op.kind == OpKind::xnor_gemm) {
    r.fail("gemm", std::string("missing field (a ") + to_string(op.kind) + " op needs {m, n, k})");
  }
  if (r.has("conv")) {
    Record s = r.sub("conv");
    s.allow({"n", "c", "h", "w", "k", "r", "s", "stride", "pad", "groups", "p", "q"});
    op.conv = ConvShape{s.u64("n"), s.u64("c"), s.u64("h"), s.u64("w"), s.u64("k"), s.u64("r"),
                        s.u64("s"), s.u64("stride", false, 1), s.u64("pad", false, 0), s.u64("groups", false, 1),
                        s.u64("p"), s.u64("q")};
  }
  op.elements = r.u64("elements", false);
  op.macs = r.u64("macs", false, op.gemm.macs());
  op.flops = r.u64("flops", false);
  op.reads = r.ids("reads");
  op.writes = r.ids("writes");
  for (const char* f : {"reads", "writes"})
    for (uint32_t t : r.ids(f))
      if (t >= g.tensors.size() && !pending.count(t)) r.fail(f, "tensor " + std::to_string(t) + " is not declared before this op");
  op.deps = r.ids("deps");
  for (uint32_t d : op.deps)
    if (d >= op.id)
      r.fail("deps", "op " + std::to_string(d) + (d == op.id ? " is this op itself" : " is not defined before this op") +
                         ": a dependency cycle or a dangling dependency (ops must come in execution order)");
  if (r.has("mask")) {
    Record m = r.sub("mask");
    m.allow({"source", "density", "n", "m", "bitmap"});
    op.out_mask.source = m.enumerated<OutputMask::Source>("source", mask_source_from_string,
                                                          "none, relu, pruned, nm, random, bitmap");
    op.out_mask.density = m.num("density", 1.0);
    if (op.out_mask.density < 0 || op.out_mask.density > 1) m.fail("density", "must be in [0, 1]");
    op.out_mask.nm_n = static_cast<unsigned>(m.u64("n", false));
    op.out_mask.nm_m = static_cast<unsigned>(m.u64("m", false));
    op.out_mask.bitmap_file = m.str("bitmap", false);
    if (op.out_mask.source == OutputMask::Source::bitmap) read_bitmap(m, op);
  }
  return op;
}

}  // namespace

void write_trace(const OpGraph& g, std::ostream& out) {
  json header = {{"format", "bpsim-trace"}, {"version", kFormatVersion}, {"name", g.name},
                 {"dtype", to_string(g.dtype)}, {"batch", g.batch},
                 {"units", {{"bytes", "B"}, {"dims", "elements"}}},
                 {"memory", {{"policy", g.memory.policy},
                             {"saved_after_forward_bytes", g.memory.saved_after_forward_bytes},
                             {"peak_bytes", g.memory.peak_bytes}}}};
  out << header.dump() << "\n";
  std::vector<bool> written(g.tensors.size(), false);
  for (const Op& op : g.ops) {
    for (const auto* list : {&op.reads, &op.writes})
      for (uint32_t t : *list)
        if (!written[t]) {
          const Tensor& x = g.tensors[t];
          out << json{{"tensor", x.id}, {"name", x.name}, {"bytes", x.bytes}, {"role", to_string(x.role)}}.dump() << "\n";
          written[t] = true;
        }
    out << op_json(op).dump() << "\n";
  }
  // Tensors no op touches still belong to the graph (ids must stay dense).
  for (const Tensor& x : g.tensors)
    if (!written[x.id])
      out << json{{"tensor", x.id}, {"name", x.name}, {"bytes", x.bytes}, {"role", to_string(x.role)}}.dump() << "\n";
}

std::shared_ptr<OpGraph> read_trace(std::istream& in, const std::string& file) {
  auto g = std::make_shared<OpGraph>();
  std::string line;
  int n = 0;
  bool have_header = false;
  std::map<uint32_t, Tensor> pending;  // tensors declared after ops (dense ids at the end)
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) throw InputError(Location{file, n, 0}, "", "malformed JSON");
    if (!j.is_object()) throw InputError(Location{file, n, 0}, "", "expected a JSON object per line");
    Record r(j, file, n);
    if (!have_header) {
      r.allow({"format", "version", "name", "dtype", "batch", "units", "memory"});
      if (r.str("format") != "bpsim-trace") r.fail("format", "expected \"bpsim-trace\" on the first line");
      if (r.u64("version") != static_cast<uint64_t>(kFormatVersion))
        r.fail("version", "unsupported trace version (this bpsim reads version " + std::to_string(kFormatVersion) + ")");
      g->name = r.str("name", false);
      g->dtype = r.has("dtype") ? r.enumerated<DType>("dtype", dtype_from_string, "fp32, bf16, fp16, int8, binary") : DType::fp32;
      g->batch = r.u64("batch", false, 1);
      if (r.has("memory")) {
        Record m = r.sub("memory");
        m.allow({"policy", "saved_after_forward_bytes", "peak_bytes"});
        g->memory.policy = m.str("policy", false);
        g->memory.saved_after_forward_bytes = m.u64("saved_after_forward_bytes", false);
        g->memory.peak_bytes = m.u64("peak_bytes", false);
      }
      have_header = true;
    } else if (j.contains("tensor")) {
      r.allow({"tensor", "name", "bytes", "role"});
      Tensor t;
      t.id = static_cast<uint32_t>(r.u64("tensor"));
      t.name = r.str("name", false);
      t.bytes = r.u64("bytes");
      t.role = r.has("role") ? r.enumerated<TensorRole>("role", role_from_string,
                                                        "input, weight, activation, saved, gradient, "
                                                        "weight_gradient, optimizer_state, workspace, mask")
                             : TensorRole::activation;
      if (t.id < g->tensors.size() || pending.count(t.id)) r.fail("tensor", "tensor " + std::to_string(t.id) + " declared twice");
      pending[t.id] = t;
      while (pending.count(static_cast<uint32_t>(g->tensors.size()))) {
        g->tensors.push_back(pending[static_cast<uint32_t>(g->tensors.size())]);
        pending.erase(static_cast<uint32_t>(g->tensors.size() - 1));
      }
    } else if (j.contains("op")) {
      g->ops.push_back(read_op(r, *g, pending));
    } else {
      throw InputError(Location{file, n, 0}, "", "expected a record with \"tensor\" or \"op\"");
    }
  }
  if (!have_header) throw InputError(Location{file, n, 0}, "", "empty trace (the first line must be the header)");
  if (!pending.empty())
    throw InputError(Location{file, n, 0}, "tensor", "tensor ids must be 0, 1, 2… without gaps; missing " +
                                                         std::to_string(g->tensors.size()));
  return g;
}

namespace {

/// An input stream buffer over a gzip file (zlib decompresses as it is read, so a
/// compressed trace is read line by line like a plain one).
class GzBuf : public std::streambuf {
 public:
  explicit GzBuf(const std::string& path) : f_(gzopen(path.c_str(), "rb")) {}
  ~GzBuf() override {
    if (f_) gzclose(f_);
  }
  GzBuf(const GzBuf&) = delete;
  GzBuf& operator=(const GzBuf&) = delete;
  bool is_open() const { return f_ != nullptr; }
  const char* error() {
    int code = Z_OK;
    const char* msg = f_ ? gzerror(f_, &code) : nullptr;
    return code == Z_OK || code == Z_STREAM_END ? nullptr : msg;
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    const int n = gzread(f_, buf_, sizeof buf_);
    if (n <= 0) return traits_type::eof();
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  gzFile f_;
  char buf_[1 << 16];
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::shared_ptr<OpGraph> read_trace_file(const std::string& path) {
  if (ends_with(path, ".gz")) {
    auto buf = std::make_unique<GzBuf>(path);
    if (!buf->is_open()) throw InputError(Location{path}, "", "cannot open trace file");
    std::istream in(buf.get());
    auto g = read_trace(in, path);
    if (const char* e = buf->error()) throw InputError(Location{path}, "", std::string("gzip: ") + e);
    return g;
  }
  std::ifstream in(path);
  if (!in) throw InputError(Location{path}, "", "cannot open trace file");
  return read_trace(in, path);
}

}  // namespace bpsim::trace
