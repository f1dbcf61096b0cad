#include "sim/source/load.h"

#include <optional>

#include "sim/core/binder.h"
#include "sim/core/data_dir.h"
#include "sim/core/input_file.h"
#include "sim/core/params.h"
#include "sim/trace/chakra_et.h"
#include "sim/trace/scalesim_csv.h"
#include "sim/trace/trace_io.h"
#include "sim/workload/builder.h"
#include "sim/workload/mask_set.h"
#include "sim/workload/policy.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

namespace {

/// The section's own keys next to a spec: overrides of the spec's values.
struct WorkloadParams {
  std::optional<std::string> spec;  ///< net_of reads it from the node (its location names the file)
  std::optional<uint64_t> batch;
  std::optional<DType> dtype;
  std::optional<Loss> loss;
  NoParams policy, policies;  ///< checked per kind (make_policy), erased before validation
  std::optional<double> relu_density;
  std::optional<std::string> masks;  ///< read from the node (its location resolves the path)
  std::optional<Framework> framework;
  std::optional<Allocator> allocator;
  GpuSpec gpu;            ///< applied only where the section gives `gpu`
  TrainingSpec training;  ///< applied technique by technique where the section gives `training`
};

const config::Binder<WorkloadParams>& workload_binder() {
  static const auto b = [] {
    // `policy` and `policies` are checked per kind (make_policy); declared here for the key list.
    const config::Binder<NoParams> per_kind("policy", "keys of the policy kind (bpsim list)");
    config::Binder<WorkloadParams> w("workload", "the training step");
    w.string("spec", &WorkloadParams::spec,
             "network spec file (configs/workloads/), relative to this config; or write the spec's "
             "keys (input, layers, optimizer, name) inline instead");
    w.integer("batch", &WorkloadParams::batch, "samples", "overrides the spec's batch").range(1, int64_t(1) << 24);
    w.choice("dtype", &WorkloadParams::dtype, dtype_names(false), "overrides the spec's dtype");
    w.choice("loss", &WorkloadParams::loss, kLossNames,
             "overrides the spec's loss (none: backward from an external output-sized gradient; "
             "docs/workloads.md \"Losses\")");
    w.group("policy", &WorkloadParams::policy, per_kind, "memory policy: {kind: K, K's keys}");
    w.group("policies", &WorkloadParams::policies, per_kind,
            "per kind, its keys where `policy` names that kind without giving them "
            "(bpsim compare and sweeps that change policy.kind alone)");
    w.real("relu_density", &WorkloadParams::relu_density, "",
           "overrides every ReLU's mask density (fraction of non-zero outputs)")
        .range(0, 1);
    w.string("masks", &WorkloadParams::masks,
             "measured dX masks (a mask set: docs/systolic.md), relative to this config; they replace the "
             "ReLU/dropout densities of the layers they list");
    w.choice("framework", &WorkloadParams::framework, kFrameworkNames, "overrides the spec's framework");
    w.choice("allocator", &WorkloadParams::allocator, kAllocatorNames, "overrides the spec's allocator");
    w.group("gpu", &WorkloadParams::gpu, gpu_binder(), "overrides the spec's gpu");
    w.group("training", &WorkloadParams::training, training_binder(),
            "overrides the spec's training techniques, each one it names (docs/techniques.md)");
    return w;
  }();
  return b;
}

/// The keys next to `scalesim: FILE`.
const config::Binder<trace::ScalesimOptions>& scalesim_binder() {
  static const auto b = [] {
    config::Binder<trace::ScalesimOptions> w("workload", "a SCALE-Sim topology CSV as the workload");
    w.choice("dtype", &trace::ScalesimOptions::dtype, dtype_names(true), "element type of its operands").def("int8");
    w.integer("batch", &trace::ScalesimOptions::batch, "samples",
              "multiplies every layer's M (im2col rows); weights are shared")
        .def(1)
        .range(1, int64_t(1) << 24);
    w.boolean("backward", &trace::ScalesimOptions::backward,
              "add each layer's dX and dW GEMMs after the forward ones (a training step)")
        .def(false);
    return w;
  }();
  return b;
}

/// The keys next to `chakra: FILE`.
const config::Binder<trace::ChakraOptions>& chakra_binder() {
  static const auto b = [] {
    config::Binder<trace::ChakraOptions> w("workload", "an MLCommons Chakra execution trace (.et) as the workload");
    w.choice("dtype", &trace::ChakraOptions::dtype, dtype_names(false),
             "element type of every op (tensor bytes from shapes)")
        .def("fp32");
    return w;
  }();
  return b;
}

}  // namespace

std::shared_ptr<const config::Schema> workload_schema() { return workload_binder().schema(); }

/// The section's policy: `policy`, with `policies.K` filling the keys it does not give.
static std::unique_ptr<const Policy> policy_of(const config::Node& section, const std::string& key_path,
                                               const PolicyContext& ctx) {
  const PolicyRegistry& reg = PolicyRegistry::instance();
  const config::Node* defaults = nullptr;
  const config::Node* policy = section.find("policy");
  std::string kind = "none";
  if (policy && policy->is_map())
    if (const config::Node* k = policy->find("kind"); k && k->is_scalar()) kind = k->scalar;
  if (const config::Node* all = section.find("policies")) {
    const std::string path = key_path + ".policies";
    std::vector<std::string> kinds;
    for (const PolicyKind& k : reg.all()) kinds.push_back(k.name);
    config::check_keys(*all, path, kinds);
    for (const auto& e : all->map) {
      std::vector<std::string> keys;
      for (const config::ParamDecl& d : reg.find(e.key)->params->params()) keys.push_back(d.name);
      config::check_keys(e.value, path + "." + e.key, keys);
    }
    defaults = all->find(kind);
  }
  return make_policy(policy ? *policy : config::Node{}, key_path + ".policy", ctx, defaults);
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
  static const char* const inline_keys[] = {"name", "input", "optimizer", "autocast", "loss_scale", "layers"};
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
  config::as_string(*spec, key_path + ".spec");
  const std::string path = config::resolve_config_path(*spec);
  // `-` (standard input) only from a command line (`bpsim workload -`), whose spec node has no file.
  if (!(is_stdio(path) && spec->loc.file.empty())) config::check_yaml_file(*spec, key_path + ".spec", path);
  return parse_net_spec(config::load_file(path));
}

}  // namespace

config::Node command_line_section(const std::string& spec, int64_t batch,
                                  const std::vector<std::pair<std::string, std::string>>& policy,
                                  const std::string& loss) {
  auto scalar = [](const std::string& text) {
    config::Node n;
    n.type = config::Node::Type::Scalar;
    n.scalar = text;
    n.loc = Location{"<command line>"};
    return n;
  };
  config::Node section;
  section.type = config::Node::Type::Map;
  config::Node spec_node = scalar(spec);
  spec_node.loc = Location{};  // relative to the working directory
  section.set("spec", spec_node);
  if (batch != -1) section.set("batch", scalar(std::to_string(batch)));
  if (!loss.empty()) section.set("loss", scalar(loss));
  if (!policy.empty()) {
    config::Node p;
    p.type = config::Node::Type::Map;
    p.loc = Location{"<command line>"};
    for (const auto& [key, value] : policy) p.set(key, scalar(value));
    section.set("policy", p);
  }
  return section;
}

std::string trace_path_of(const config::Node& section, const std::string& key_path) {
  const config::Node* t = section.find("trace");
  if (!t) return "";
  config::check_keys(section, key_path, {"trace"});
  return config::resolve_path(*t);
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
    const trace::ChakraOptions opt = chakra_binder().parse(config::validate(rest, *chakra_binder().schema(), key_path));
    return trace::read_chakra_et_file(config::resolve_path(*et), opt);
  }
  const config::Node* csv = section.find("scalesim");
  if (!csv) return nullptr;
  config::Node rest = section;
  rest.erase("scalesim");
  const trace::ScalesimOptions opt =
      scalesim_binder().parse(config::validate(rest, *scalesim_binder().schema(), key_path));
  return trace::read_scalesim_csv_file(config::resolve_path(*csv), opt);
}

std::shared_ptr<OpGraph> load_workload(const config::Node& section, const std::string& key_path, uint64_t seed,
                                       const OpCostFn& accelerator_cost, const OpCostFn& accelerator_energy,
                                       const std::function<void(NetSpec&)>& rewrite) {
  config::expect_map(section, key_path);
  if (auto g = load_external(section, key_path)) {
    if (rewrite)
      throw InputError(section.loc, key_path, "a trace or imported workload cannot be resharded: give a network spec");
    return g;
  }
  config::Node rest = section;
  NetSpec net = net_of(section, key_path, rest);
  rest.erase("policy");
  rest.erase("policies");
  const config::Values v = config::validate(rest, *workload_schema(), key_path);
  const WorkloadParams p = workload_binder().parse(v);
  if (p.batch) net.batch = *p.batch;
  if (p.dtype) {
    net.dtype = *p.dtype;
    if (net.autocast != Autocast::none && net.dtype != DType::fp32)
      throw v.error("dtype", "the spec runs under autocast, which needs fp32 parameters");
    if (net.master_weights && (net.dtype != DType::bf16 && net.dtype != DType::fp16))
      throw v.error("dtype", "the spec's optimizer keeps fp32 master weights, for bf16 or fp16 parameters");
  }
  if (p.loss) {
    net.loss = *p.loss;
    if (net.autocast != Autocast::none && net.loss != Loss::none) throw v.error("loss", kAutocastLossRefusal);
  }
  if (p.relu_density) set_relu_density(net.layers, *p.relu_density);
  if (p.framework) net.framework = *p.framework;
  if (p.allocator) net.allocator = *p.allocator;
  if (section.find("gpu")) net.gpu = p.gpu;
  if (const config::Node* t = section.find("training")) overlay_training(net.training, p.training, *t);
  net.training.early_exit.seed = seed;  // its confidence draw, as confidence_skip's
  if (rewrite) rewrite(net);
  const std::unique_ptr<const Policy> policy =
      policy_of(section, key_path, PolicyContext{seed, accelerator_cost, accelerator_energy});
  auto g = std::make_shared<OpGraph>(build_step(net, *policy));
  if (const config::Node* m = section.find("masks")) {
    const std::string path = config::resolve_path(*m);
    config::check_yaml_file(*m, key_path + ".masks", path);
    apply_mask_set(read_mask_set(path), *g);
  }
  return g;
}

namespace {
void collect_devices(const std::vector<LayerSpec>& layers, std::vector<LayerDevice>& out) {
  for (const LayerSpec& l : layers) {
    if (!l.device.empty()) out.push_back({l.name, l.device, l.loc});
    collect_devices(l.body, out);
    collect_devices(l.shortcut, out);
  }
}
}  // namespace

std::vector<LayerDevice> layer_devices(const config::Node& section, const std::string& key_path) {
  config::expect_map(section, key_path);
  if (!trace_path_of(section, key_path).empty() || section.find("scalesim") || section.find("chakra")) return {};
  config::Node rest = section;
  std::vector<LayerDevice> out;
  collect_devices(net_of(section, key_path, rest).layers, out);
  return out;
}

}  // namespace bpsim::workload
