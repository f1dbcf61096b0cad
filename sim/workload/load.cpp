#include "sim/workload/load.h"

#include <filesystem>

#include "sim/core/params.h"
#include "sim/workload/builder.h"
#include "sim/trace/scalesim_csv.h"
#include "sim/trace/trace_io.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

std::shared_ptr<const config::Schema> workload_schema() {
  static auto s = [] {
    auto p = std::make_shared<config::Schema>("policy", "memory-saving policy for backprop");
    p->choice("kind", {"none", "checkpoint", "checkpoint_sequential", "full_recompute"},
              "none; checkpoint every layer; PyTorch checkpoint_sequential; recompute the whole forward")
        .def("none");
    p->integer("segments", "", "segments for checkpoint_sequential").def(2).range(1, 1 << 20);
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
  const std::string k = p.s("kind");
  pol.kind = k == "checkpoint" ? Policy::Kind::checkpoint
             : k == "checkpoint_sequential" ? Policy::Kind::checkpoint_sequential
             : k == "full_recompute" ? Policy::Kind::full_recompute
                                     : Policy::Kind::none;
  pol.segments = static_cast<unsigned>(p.i("segments"));
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
  if (!std::filesystem::exists(path)) throw InputError(spec->loc, key_path + ".spec", "no such file: " + path);
  return parse_net_spec(config::load_file(path));
}

}  // namespace

/// Finished op graphs from elsewhere: a bpsim trace, or a SCALE-Sim topology CSV (its
/// layers' forward GEMMs, run as they are, and with `backward: true` their dX and dW
/// GEMMs). Null when the section names neither.
static std::shared_ptr<OpGraph> load_external(const config::Node& section, const std::string& key_path) {
  if (const config::Node* t = section.find("trace")) {
    config::check_keys(section, key_path, {"trace"});
    return trace::read_trace_file(config::resolve_path(*t));
  }
  const config::Node* csv = section.find("scalesim");
  if (!csv) return nullptr;
  config::check_keys(section, key_path, {"scalesim", "dtype", "backward"});
  DType dt = DType::int8;
  if (const config::Node* d = section.find("dtype"))
    if (!dtype_from_string(config::as_string(*d, key_path + ".dtype"), dt))
      throw InputError(d->loc, key_path + ".dtype",
                       "'" + d->scalar + "' is not valid (expected one of: fp32, bf16, fp16, int8, binary)");
  bool backward = false;
  if (const config::Node* b = section.find("backward")) backward = config::as_bool(*b, key_path + ".backward");
  return trace::read_scalesim_csv_file(config::resolve_path(*csv), dt, backward);
}

std::shared_ptr<OpGraph> load_workload(const config::Node& section, const std::string& key_path, uint64_t) {
  config::expect_map(section, key_path);
  if (auto g = load_external(section, key_path)) return g;
  config::Node rest = section;
  NetSpec net = net_of(section, key_path, rest);
  const config::Values v = config::validate(rest, *workload_schema(), key_path);
  if (v.has("batch")) net.batch = static_cast<uint64_t>(v.i("batch"));
  if (v.has("dtype")) dtype_from_string(v.s("dtype"), net.dtype);
  if (v.has("relu_density")) set_relu_density(net.layers, v.f("relu_density"));
  const Policy pol = policy_from(v.g("policy"));
  if (pol.kind == Policy::Kind::checkpoint_sequential && pol.segments > net.layers.size())
    throw v.g("policy").error("segments", std::to_string(pol.segments) + " segments but the network has only " +
                                              std::to_string(net.layers.size()) + " top-level layers");
  return std::make_shared<OpGraph>(build_step(net, pol));
}

}  // namespace bpsim::workload
