#pragma once
/// The `system:` section of a run config (docs/system.md "Config"): the devices, each with its
/// own validated accelerator, memory and energy sections, the fabric between them, how the
/// ops are placed, and the parallelism of N identical devices. Parsed from a RunSpec that
/// prepare() marked `system` (it has read `run:` only).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/config_node.h"
#include "sim/core/energy.h"
#include "sim/core/enum_names.h"
#include "sim/core/params.h"
#include "sim/engine/engine.h"
#include "sim/ir/ir.h"
#include "sim/system/fabric.h"

namespace bpsim::system {

/// placement.mode: per-layer `device:` keys in the spec; a list scheduler over the joint
/// forward/backward graph; the same scheduler over the forward DAG, then the backward DAG;
/// every op on placement.default (the one-device baseline of the same system).
enum class PlacementMode { manual, automatic, split, single };
inline constexpr config::EnumName<PlacementMode> kPlacementModeNames[] = {{PlacementMode::manual, "manual"},
                                                                          {PlacementMode::automatic, "auto"},
                                                                          {PlacementMode::split, "split"},
                                                                          {PlacementMode::single, "single"}};

/// parallel.schedule: the pipeline schedule of micro-batches.
enum class PipelineSchedule { gpipe, one_f_one_b };
inline constexpr config::EnumName<PipelineSchedule> kPipelineScheduleNames[] = {
    {PipelineSchedule::gpipe, "gpipe"}, {PipelineSchedule::one_f_one_b, "1f1b"}};

/// `system.parallel` (helper par implements what these do; docs/system.md "Parallelism").
struct ParallelSpec {
  uint32_t data = 1;
  uint32_t pipeline = 1;
  uint32_t tensor = 1;
  uint32_t microbatches = 1;
  PipelineSchedule schedule = PipelineSchedule::one_f_one_b;
  Algorithm allreduce = Algorithm::ring;
  uint32_t inner_group = 0;  ///< hierarchical all-reduce: devices per inner group (0: the algorithm's choice)
  double bucket_mb = 25;     ///< gradient bucket, MB (1e6 B)
  bool overlap = true;       ///< all-reduce overlapped with the backward pass
  /// Every value the defaults give: no parallelism asked for.
  bool trivial() const { return data == 1 && pipeline == 1 && tensor == 1 && microbatches == 1; }
};

/// One device of the system, after `count:` is expanded (NAME0…NAME{N−1}).
struct DeviceSpec {
  std::string name;             ///< its name in the report and in routes
  std::string group;            ///< the key under system.devices it came from (== name without count)
  uint32_t index = 0;           ///< its place in the fabric (document order, count expanded)
  Location where;               ///< its key under system.devices
  const AcceleratorKind* kind = nullptr;
  std::shared_ptr<const config::Values> accelerator;
  std::shared_ptr<const config::Values> memory;  ///< its own, or the shared one's
  EnergyTable energy;
  /// Its sections as written ({accelerator, memory, energy}; the memory and energy the
  /// top-level ones where it names none): the config a device's own report echoes.
  config::Node sections;
  /// The index of the device whose memory this one uses (`memory: {shared_with: NAME}`);
  /// its own index when it has its own memory. Devices with one memory move no tensor over a
  /// link, and their ops take turns at the one DRAM (docs/system.md).
  uint32_t memory_owner = 0;
  /// What its memory may hold, bytes: `memory_budget_mb` when given, else its DRAM's capacity.
  uint64_t memory_budget_bytes = 0;
};

struct SystemSpec {
  std::vector<DeviceSpec> devices;
  Fabric fabric;  ///< fabric.devices == devices.size()
  PlacementMode placement = PlacementMode::manual;
  uint32_t default_device = 0;  ///< placement.default (index into devices)
  ParallelSpec parallel;
  Location where;  ///< the `system:` key
  /// The index of the device named `name`, or -1.
  int find(const std::string& name) const;
  /// "sa, pim" for messages.
  std::string names() const;
};

/// Parses `spec.root`'s `system:` section (prepare() set `spec.system`), with the top-level
/// `memory:` and `energy:` as every device's defaults. Throws InputError (file:line, key path).
SystemSpec parse_system(const RunSpec& spec);

/// A device's own estimates of one op, made from its sections (empty where its kind has
/// none): cycles at its clock (AcceleratorKind::op_cost) and energy in pJ (op_energy).
struct DeviceEstimates {
  workload::OpCostFn cycles;
  workload::OpCostFn energy_pj;
};
DeviceEstimates device_estimates(const DeviceSpec& dev);

/// The one training step's op graph of a system config (its top-level `workload:`), built with
/// the default device's op-cost and energy estimates where a memory policy asks for them.
std::shared_ptr<workload::OpGraph> load_system_workload(const RunSpec& spec, const SystemSpec& sys);

/// A one-device RunSpec for `dev` running `graph` (for simulate_device): its kind and
/// sections, the top-level `run:` (seed, limits; report_ops is forced to all by the child).
RunSpec device_run_spec(const RunSpec& top, const DeviceSpec& dev, std::shared_ptr<workload::OpGraph> graph);

}  // namespace bpsim::system
