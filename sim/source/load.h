#pragma once
/// What the engine needs from the workload side: the `workload:` section's schema and the
/// op graph it names.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/config_node.h"
#include "sim/core/params.h"
#include "sim/ir/ir.h"

namespace bpsim::workload {

struct NetSpec;

/// The `workload:` section's parameters (spec, batch, dtype, policy).
std::shared_ptr<const config::Schema> workload_schema();

/// The resolved file of a `workload: {trace: FILE}` section (checking that it has no other
/// key); empty when the section is not a trace.
std::string trace_path_of(const config::Node& section, const std::string& key_path);

/// A `workload:` section as a command line gives it: {spec: SPEC (relative to the working
/// directory), batch (unless -1), policy: {KEY: VALUE, …} (when any), loss (unless empty)},
/// each value located at "<command line>". load_workload then checks it as it checks a config's.
config::Node command_line_section(const std::string& spec, int64_t batch,
                                  const std::vector<std::pair<std::string, std::string>>& policy,
                                  const std::string& loss = "");

/// The op graph a config's `workload:` section names: a network spec (path or inline,
/// with overrides and policy), a bpsim trace (`trace:`), or a SCALE-Sim topology CSV
/// (`scalesim:`). Throws InputError on bad input.
/// `accelerator_cost`: the target model's own estimate of one op (cycles), used by the
/// recompute policies with `cost: accelerator`; empty when the model gives none.
/// `accelerator_energy`: its estimate of one op's energy (pJ), for `energy_optimal`.
/// `rewrite`: applied to a network spec once the section's overrides are in, before the step
/// is built (a system's tensor parallelism shards it); refused for a trace or imported file.
std::shared_ptr<OpGraph> load_workload(const config::Node& section, const std::string& key_path, uint64_t seed,
                                       const OpCostFn& accelerator_cost = {}, const OpCostFn& accelerator_energy = {},
                                       const std::function<void(NetSpec&)>& rewrite = {});

/// A layer of a network spec that names a system's device (`device:`, docs/system.md): its
/// name (an op's `layer` is it, or starts with it and '.'), the device, and where it was given.
struct LayerDevice {
  std::string layer, device;
  Location where;
};
/// The `device:` keys of the spec a workload section names, outermost first (a group's
/// device is its layers' unless they name their own). Empty for a trace or an import.
std::vector<LayerDevice> layer_devices(const config::Node& section, const std::string& key_path);

}  // namespace bpsim::workload
