#include "sim/workload/load.h"

#include <filesystem>

#include "sim/core/params.h"
#include "sim/workload/builder.h"
#include "sim/trace/chakra_et.h"
#include "sim/trace/scalesim_csv.h"
#include "sim/trace/trace_io.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

std::shared_ptr<const config::Schema> workload_schema() {
  static auto s = [] {
    auto p = std::make_shared<config::Schema>("policy", "memory-saving policy for backprop");
    p->choice("kind", policy_kinds(),
              "none; checkpoint every layer; PyTorch checkpoint_sequential; recompute the whole forward; "
              "recompute operators cheaper per stored byte than `threshold`; recompute operators by bytes per "
              "cost until the peak fits `budget_bytes`; least recompute for `budget_bytes`; store activations "
              "as non-zero values plus offsets; skip the backward of confidently predicted samples; residual "
              "blocks as RevNet couplings")
        .def("none");
    p->integer("segments", "", "segments for checkpoint_sequential").def(2).range(1, 1 << 20);
    p->real("threshold", "cost/byte", "threshold: an operator whose recompute cost per stored byte exceeds this "
                                      "is stored, others are recomputed")
        .positive();
    p->integer("budget_bytes", "B", "evaluation, optimal: the peak memory to fit").at_least(1);
    p->choice("cost", {"flops", "roofline", "accelerator"},
              "recompute cost: FLOPs; roofline cycles max(FLOPs/flops_per_cycle, bytes/bytes_per_cycle); or the "
              "target accelerator's own cycle estimate of each op")
        .def("flops");
    p->real("flops_per_cycle", "FLOP/cycle", "roofline: the accelerator's peak arithmetic").def(512.0).positive();
    p->real("bytes_per_cycle", "B/cycle", "roofline: the accelerator's memory bandwidth").def(64.0).positive();
    p->real("density", "", "sparse_storage: fraction of non-zero activation elements (default: each ReLU's "
                           "density, other activations dense)")
        .range(0, 1);
    p->integer("index_bits", "bit", "sparse_storage: width of each stored offset").def(16).range(1, 64);
    p->real("beta_a", "", "confidence_skip: per-sample confidence ~ Beta(beta_a, beta_b)").def(8.0).positive();
    p->real("beta_b", "", "confidence_skip: see beta_a").def(2.0).positive();
    p->list("histogram", config::ParamType::Float,
            "confidence_skip: instead of Beta, weights of equal-width confidence bins over [0, 1]");
    p->real("allowable_error", "", "confidence_skip: share of the batch's gradient mass Σ(1 − confidence) "
                                   "that skipped samples may drop")
        .def(0.05)
        .range(0, 1);
    auto w = std::make_shared<config::Schema>("workload", "the training step");
    w->string("spec", "network spec file (configs/workloads/), relative to this config; or write the spec's "
                      "keys (input, layers, optimizer, name) inline instead");
    w->integer("batch", "samples", "overrides the spec's batch").range(1, int64_t(1) << 24);
    w->choice("dtype", {"fp32", "bf16", "fp16", "int8"}, "overrides the spec's dtype");
    w->group("policy", p, "memory policy");
    w->real("relu_density", "", "overrides every ReLU's mask density (fraction of non-zero outputs)").range(0, 1);
    return w;
  }();
  return s;
}

Policy policy_from(const config::Values& p) {
  Policy pol;
  policy_kind_from_string(p.s("kind"), pol.kind);  // the schema allows only known names
  pol.segments = static_cast<unsigned>(p.i("segments"));
  if (pol.kind == Policy::Kind::threshold) {
    if (!p.has("threshold"))
      throw InputError(p.where("kind"), p.path() + ".threshold",
                       "policy 'threshold' needs a 'threshold' (a positive cost per stored byte)");
    pol.threshold = p.f("threshold");
  }
  if (pol.kind == Policy::Kind::evaluation || pol.kind == Policy::Kind::optimal) {
    if (!p.has("budget_bytes"))
      throw InputError(p.where("kind"), p.path() + ".budget_bytes",
                       "policy '" + p.s("kind") + "' needs 'budget_bytes' (the peak memory to fit, bytes)");
    pol.budget_bytes = static_cast<uint64_t>(p.i("budget_bytes"));
  }
  pol.cost.kind = p.s("cost") == "roofline" ? CostModel::Kind::roofline : CostModel::Kind::flops;
  pol.cost.flops_per_cycle = p.f("flops_per_cycle");
  pol.cost.bytes_per_cycle = p.f("bytes_per_cycle");
  pol.density = p.has("density") ? p.f("density") : -1.0;
  pol.index_bits = static_cast<unsigned>(p.i("index_bits"));
  pol.beta_a = p.f("beta_a");
  pol.beta_b = p.f("beta_b");
  pol.allowable_error = p.f("allowable_error");
  if (p.has("histogram")) {
    double sum = 0;
    for (const std::string& w : p.strings("histogram")) {
      const double x = std::stod(w);
      if (!(x >= 0)) throw p.error("histogram", "bin weights must be non-negative numbers (got " + w + ")");
      pol.histogram.push_back(x);
      sum += x;
    }
    if (!(sum > 0)) throw p.error("histogram", "give at least one bin with a positive weight");
  }
  return pol;
}

namespace {

void set_relu_density(std::vector<LayerSpec>& layers, double d) {
  for (LayerSpec& l : layers) {
    if (l.kind == "relu") l.density = d;
    set_relu_density(l.body, d);
    set_relu_density(l.shortcut, d);
  }
}

/// The spec: a file named by `spec:`, or the spec's own keys written in the section.
NetSpec net_of(const config::Node& section, const std::string& key_path, config::Node& rest) {
  static const char* const inline_keys[] = {"name", "input", "optimizer", "layers"};
  config::Node inline_spec;
  inline_spec.type = config::Node::Type::Map;
  inline_spec.loc = section.loc;
  for (const char* k : inline_keys)
    if (const config::Node* n = section.find(k)) {
      inline_spec.set(k, *n);
      rest.erase(k);
    }
  const config::Node* spec = section.find("spec");
  if (spec && inline_spec.find("layers"))
    throw InputError(spec->loc, key_path + ".spec", "give either 'spec' or inline 'layers', not both");
  if (inline_spec.find("layers")) return parse_net_spec(inline_spec);
  if (!spec) throw InputError(section.loc, key_path, "missing required key 'spec' (or inline 'input' and 'layers')");
  const std::string path = config::resolve_path(*spec);
  std::error_code missing;  // a name the OS refuses (too long) is missing too, not an exception
  if (!std::filesystem::exists(path, missing)) throw InputError(spec->loc, key_path + ".spec", "no such file: " + path);
  return parse_net_spec(config::load_file(path));
}

}  // namespace

/// The keys next to `scalesim: FILE`.
static std::shared_ptr<const config::Schema> scalesim_schema() {
  static auto s = [] {
    auto w = std::make_shared<config::Schema>("workload", "a SCALE-Sim topology CSV as the workload");
    w->choice("dtype", {"fp32", "bf16", "fp16", "int8", "binary"}, "element type of its operands").def("int8");
    w->integer("batch", "samples", "multiplies every layer's M (im2col rows); weights are shared").def(1).range(1, int64_t(1) << 24);
    w->boolean("backward", "add each layer's dX and dW GEMMs after the forward ones (a training step)").def(false);
    return w;
  }();
  return s;
}

std::string trace_path_of(const config::Node& section, const std::string& key_path) {
  const config::Node* t = section.find("trace");
  if (!t) return "";
  config::check_keys(section, key_path, {"trace"});
  return config::resolve_path(*t);
}

/// The keys next to `chakra: FILE`.
static std::shared_ptr<const config::Schema> chakra_schema() {
  static auto s = [] {
    auto w = std::make_shared<config::Schema>("workload", "an MLCommons Chakra execution trace (.et) as the workload");
    w->choice("dtype", {"fp32", "bf16", "fp16", "int8"}, "element type of every op (tensor bytes from shapes)").def("fp32");
    return w;
  }();
  return s;
}

/// Finished op graphs from elsewhere: a bpsim trace, a SCALE-Sim topology CSV (its
/// layers' forward GEMMs, run as they are) or a Chakra execution trace. Null when the
/// section names none of them.
static std::shared_ptr<OpGraph> load_external(const config::Node& section, const std::string& key_path) {
  const std::string trace = trace_path_of(section, key_path);
  if (!trace.empty()) return trace::read_trace_file(trace);
  if (const config::Node* et = section.find("chakra")) {
    config::Node rest = section;
    rest.erase("chakra");
    const config::Values v = config::validate(rest, *chakra_schema(), key_path);
    trace::ChakraOptions opt;
    dtype_from_string(v.s("dtype"), opt.dtype);
    return trace::read_chakra_et_file(config::resolve_path(*et), opt);
  }
  const config::Node* csv = section.find("scalesim");
  if (!csv) return nullptr;
  config::Node rest = section;
  rest.erase("scalesim");
  const config::Values v = config::validate(rest, *scalesim_schema(), key_path);
  trace::ScalesimOptions opt;
  dtype_from_string(v.s("dtype"), opt.dtype);
  opt.batch = static_cast<uint64_t>(v.i("batch"));
  opt.backward = v.b("backward");
  return trace::read_scalesim_csv_file(config::resolve_path(*csv), opt);
}

std::shared_ptr<OpGraph> load_workload(const config::Node& section, const std::string& key_path, uint64_t seed,
                                       const OpCostFn& accelerator_cost) {
  config::expect_map(section, key_path);
  if (auto g = load_external(section, key_path)) return g;
  config::Node rest = section;
  NetSpec net = net_of(section, key_path, rest);
  const config::Values v = config::validate(rest, *workload_schema(), key_path);
  if (v.has("batch")) net.batch = static_cast<uint64_t>(v.i("batch"));
  if (v.has("dtype")) dtype_from_string(v.s("dtype"), net.dtype);
  if (v.has("relu_density")) set_relu_density(net.layers, v.f("relu_density"));
  Policy pol = policy_from(v.g("policy"));
  pol.seed = seed;
  if (v.g("policy").s("cost") == "accelerator") {
    if (!accelerator_cost)
      throw v.g("policy").error("cost", "this accelerator gives no per-op cost estimate (use flops or roofline)");
    pol.cost.custom = accelerator_cost;
  }
  if (pol.kind == Policy::Kind::checkpoint_sequential && pol.segments > net.layers.size())
    throw v.g("policy").error("segments", std::to_string(pol.segments) + " segments but the network has only " +
                                              std::to_string(net.layers.size()) + " top-level layers");
  try {
    return std::make_shared<OpGraph>(build_step(net, pol));
  } catch (const BudgetError& e) {
    throw v.g("policy").error("budget_bytes", e.what());
  }
}

}  // namespace bpsim::workload
