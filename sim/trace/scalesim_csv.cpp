#include "sim/trace/scalesim_csv.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include "sim/core/checked.h"
#include "sim/core/error.h"
#include "sim/core/input_file.h"
#include "sim/core/limits.h"
#include "sim/trace/import_util.h"
#include "sim/trace/trace_file.h"

namespace bpsim::trace {

namespace {

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

/// Fields of a row; SCALE-Sim rows end with a comma, so an empty last field is dropped.
std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  std::string x;
  while (std::getline(ss, x, ',')) f.push_back(trim(x));
  if (!f.empty() && f.back().empty()) f.pop_back();
  return f;
}

uint64_t number(const std::string& s, const Location& loc, const std::string& column) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
    throw InputError(loc, column, "expected a positive integer");  // the field itself is not echoed
  const uint64_t max = limits::get(limits::Id::scalesim_dim);
  // More than 19 digits cannot be read into 64 bits, and is over any limit anyway.
  const uint64_t v = s.size() > 19 ? UINT64_MAX : std::stoull(s);
  if (v > max) throw InputError(loc, column, limits::exceeded(limits::Id::scalesim_dim, "size too large"));
  if (v == 0) throw InputError(loc, column, "must be at least 1");
  return v;
}

/// Room for `more` ops (each with its backward pair when asked): the ops limit, checked
/// before a depth-wise row expands into one op per channel.
void reserve_ops(const workload::OpGraph& g, uint64_t more, bool backward, const Location& loc) {
  uint64_t total = 0;
  if (!checked_product({more, backward ? 3u : 1u}, total) || !checked_sum({total, g.ops.size()}, total) ||
      total > limits::get(limits::Id::ops))
    throw InputError(
        loc, "row",
        limits::exceeded(limits::Id::ops, "too many ops: this row makes " + std::to_string(more) +
                                              (backward ? " forward ops, each with 2 backward ops" : " ops")));
}

uint64_t elem_bytes(const workload::OpGraph& g) { return trace::elem_bytes(g.dtype); }

workload::Op& add_op(workload::OpGraph& g, const std::string& name, const std::string& layer, workload::Phase ph,
                     workload::OpKind kind, uint64_t m, uint64_t n, uint64_t k, const std::string& detail) {
  workload::Op op;
  op.id = uint32_t(g.ops.size());
  op.name = name;
  op.layer = layer;
  op.phase = ph;
  op.kind = kind;
  op.dtype = g.dtype;
  op.gemm = workload::GemmDims{m, n, k, 1};
  op.macs = op.gemm.macs();
  op.detail = detail;
  g.ops.push_back(op);
  return g.ops.back();
}

void add_gemm(workload::OpGraph& g, const std::string& name, uint64_t m, uint64_t n, uint64_t k,
              const workload::ConvShape* conv, const Location& loc) {
  const uint64_t e = elem_bytes(g);
  // The backward GEMMs permute these dims, so these products cover them too.
  product_or_throw(loc, "row", {m, k, e});
  product_or_throw(loc, "row", {k, n, e});
  product_or_throw(loc, "row", {m, n, e});
  product_or_throw(loc, "row", {m, n, k});
  workload::Op& op =
      add_op(g, name, name, workload::Phase::forward, conv ? workload::OpKind::conv : workload::OpKind::gemm, m, n, k,
             conv ? "scalesim_conv" : "scalesim_gemm");
  if (conv) op.conv = *conv;
  // The input as SCALE-Sim's operand matrix (im2col), so every operand byte is addressed.
  op.reads = {add_tensor(g, name + ".in", m * k * e, workload::TensorRole::input),
              add_tensor(g, name + ".weight", k * n * e, workload::TensorRole::weight)};
  op.writes = {add_tensor(g, name + ".out", m * n * e, workload::TensorRole::activation)};
}

/// dX and dW GEMMs of every forward op, last layer first (ScalesimOptions::backward).
void add_backward(workload::OpGraph& g) {
  const uint64_t e = elem_bytes(g);
  const size_t forward = g.ops.size();
  // Each backward op needs its forward op and the gradient the dX before it produced.
  std::vector<uint32_t> deps;
  for (size_t i = forward; i-- > 0;) {
    const workload::Op f = g.ops[i];
    const uint64_t m = f.gemm.m, n = f.gemm.n, k = f.gemm.k;
    deps.insert(deps.begin(), f.id);
    deps.resize(std::min<size_t>(deps.size(), 2));
    const uint32_t dy = add_tensor(g, f.name + ".out.grad", m * n * e, workload::TensorRole::gradient);
    workload::Op& dx = add_op(g, f.name + ".dx", f.layer, workload::Phase::backward_data, workload::OpKind::gemm, m, k,
                              n, f.detail + ".dx");
    dx.reads = {dy, f.reads[1]};
    dx.writes = {add_tensor(g, f.name + ".in.grad", m * k * e, workload::TensorRole::gradient)};
    dx.deps = deps;
    const uint32_t dx_id = dx.id;
    workload::Op& dw = add_op(g, f.name + ".dw", f.layer, workload::Phase::backward_weight, workload::OpKind::gemm, k,
                              n, m, f.detail + ".dw");
    dw.reads = {f.reads[0], dy};
    dw.writes = {add_tensor(g, f.name + ".weight.grad", k * n * e, workload::TensorRole::weight_gradient)};
    dw.deps = deps;
    deps = {dx_id};
  }
}

}  // namespace

std::shared_ptr<workload::OpGraph> read_scalesim_csv(std::istream& in, const std::string& file,
                                                     const ScalesimOptions& opt) {
  auto g = std::make_shared<workload::OpGraph>();
  g->name = file;
  g->dtype = opt.dtype;
  g->batch = opt.batch;
  std::string line;
  int lineno = 0;
  bool gemm_form = false, header = true;
  LineReader lines(in, file);
  while (lines.next(line)) {
    lineno = lines.line();
    std::vector<std::string> f = split(line);
    if (std::all_of(f.begin(), f.end(), [](const std::string& x) { return x.empty(); })) continue;
    const Location loc{file, lineno, 1};
    if (header) {
      header = false;
      gemm_form = f.size() >= 4 && f[1] == "M" && f[2] == "N" && f[3] == "K";
      if (!gemm_form && (f.size() < 8 || f[1].find("IFMAP") == std::string::npos))
        throw InputError(loc, "header",
                         "expected a SCALE-Sim topology header: 'Layer, M, N, K,' or 'Layer name, IFMAP Height, "
                         "IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,'");
      continue;
    }
    const char* cols_gemm[] = {"layer", "M", "N", "K"};
    const char* cols_conv[] = {"layer",    "ifmap_height", "ifmap_width", "filter_height", "filter_width",
                               "channels", "num_filter",   "stride_h",    "stride_w"};
    // Columns after the declared ones (annotations in SCALE-Sim's own files) are ignored;
    // the conv form's 9th field is the column stride when present.
    const size_t want = gemm_form ? 4 : 8;
    if (f.size() < want)
      throw InputError(loc, "row", "expected " + std::to_string(want) + " fields, got " + std::to_string(f.size()));
    f.resize(!gemm_form && f.size() > 8 && !f[8].empty() ? 9 : want);
    std::vector<uint64_t> v(f.size(), 0);
    for (size_t i = 1; i < f.size(); ++i)
      v[i] = number(f[i], Location{file, lineno, int(i + 1)}, gemm_form ? cols_gemm[i] : cols_conv[i]);
    reserve_ops(*g, 1, opt.backward, loc);
    if (gemm_form) {
      add_gemm(*g, f[0], product_or_throw(loc, "M", {v[1], opt.batch}), v[2], v[3], nullptr, loc);
      continue;
    }
    const uint64_t h = v[1], w = v[2], fh = v[3], fw = v[4], ch = v[5], nf = v[6], sh = v[7];
    const uint64_t sw = f.size() > 8 ? v[8] : sh;
    if (fh > h || fw > w) throw InputError(loc, "filter", "filter larger than the input feature map");
    workload::ConvShape cs;
    cs.n = opt.batch, cs.h = h, cs.w = w, cs.r = fh, cs.s = fw, cs.k = nf, cs.stride = sh;
    cs.p = (h - fh + sh + sh - 1) / sh;  // ⌈(H − Fh + s)/s⌉, SCALE-Sim's output size
    cs.q = (w - fw + sw + sw - 1) / sw;
    const bool depthwise = f[0].find("DP") != std::string::npos;
    cs.c = depthwise ? 1 : ch;
    if (depthwise) reserve_ops(*g, ch, opt.backward, loc);
    const uint64_t m = product_or_throw(loc, "row", {opt.batch, cs.p, cs.q}),
                   k = product_or_throw(loc, "row", {fh, fw, cs.c});
    for (uint64_t c = 0; c < (depthwise ? ch : 1); ++c)
      add_gemm(*g, depthwise ? f[0] + "Channel_" + std::to_string(c) : f[0], m, nf, k, &cs, loc);
  }
  if (g->ops.empty()) throw InputError(Location{file, lineno, 0}, "", "no layers in SCALE-Sim topology file");
  if (opt.backward) add_backward(*g);
  account_imported_memory(*g, file);
  return g;
}

std::shared_ptr<workload::OpGraph> read_scalesim_csv_file(const std::string& path, const ScalesimOptions& opt) {
  std::ifstream in = open_regular_file(path, "SCALE-Sim topology file");
  return read_scalesim_csv(in, path, opt);
}

}  // namespace bpsim::trace
