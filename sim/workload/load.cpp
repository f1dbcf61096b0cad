#include "sim/workload/load.h"

#include <filesystem>

#include "sim/core/params.h"
#include "sim/workload/builder.h"
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
    w->string("spec", "network spec file (configs/workloads/), relative to this config").req();
    w->integer("batch", "samples", "overrides the spec's batch").range(1, int64_t(1) << 24);
    w->choice("dtype", {"fp32", "bf16", "fp16", "int8"}, "overrides the spec's dtype");
    w->group("policy", p, "memory policy");
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

std::shared_ptr<OpGraph> load_workload(const config::Node& section, const std::string& key_path, uint64_t) {
  const config::Values v = config::validate(section, *workload_schema(), key_path);
  const std::string path = config::resolve_path(*section.find("spec"));
  if (!std::filesystem::exists(path)) throw v.error("spec", "no such file: " + path);
  NetSpec net = parse_net_spec(config::load_file(path));
  if (v.has("batch")) net.batch = static_cast<uint64_t>(v.i("batch"));
  if (v.has("dtype")) dtype_from_string(v.s("dtype"), net.dtype);
  const Policy pol = policy_from(v.g("policy"));
  if (pol.kind == Policy::Kind::checkpoint_sequential && pol.segments > net.layers.size())
    throw v.g("policy").error("segments", std::to_string(pol.segments) + " segments but the network has only " +
                                              std::to_string(net.layers.size()) + " layers");
  return std::make_shared<OpGraph>(build_step(net, pol));
}

}  // namespace bpsim::workload
