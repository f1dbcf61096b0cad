#pragma once
/// One training step on a system of accelerators (docs/system.md): the op graph placed on the
/// devices, each device's ops simulated on its own model, the step put on one clock with the
/// transfers between devices.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/engine/engine.h"
#include "sim/ir/ir.h"
#include "sim/system/schedule.h"
#include "sim/system/system_report.h"
#include "sim/system/system_spec.h"

namespace bpsim::system {

/// What placing a step says besides the placement (auto and split only).
struct PlaceNotes {
  std::vector<std::string> warnings;  ///< the console's: a device the scheduler could not price
  /// Per device: how the scheduler priced its ops (report.json system.devices[].priced_by):
  /// "estimate" (its kind's op_cost), "own_run" (its model's run of the whole step), "refused"
  /// (that run was refused: no op can go there); empty under manual and single.
  std::vector<std::string> priced_by;
};

/// Where each op of `g` goes under `sys.placement` (manual: the spec's `device:` keys, read
/// from the top-level workload section; single: every op on placement.default; auto, split:
/// the list scheduler with each device's own costs, schedule_problem). Throws InputError.
/// `notes`, when given, receives what the scheduler says of its pricing.
Placement place(const RunSpec& top, const SystemSpec& sys, const workload::OpGraph& g, PlaceNotes* notes = nullptr);

/// The scheduler's problem for `g` on `sys`: each op's seconds on each device, memory owners
/// and budgets, the fabric. An op's seconds on a device are its kind's estimate
/// (AcceleratorKind::op_cost) at the device's clock_ghz where the kind gives one (−1 where it
/// refuses the op); otherwise (the PIM array, the mesh) the op's cycles when the device's own
/// model runs the whole step alone (simulate_device; once per distinct device), and −1 on
/// every op when that model refuses the step, which adds a warning to `notes`.
ScheduleProblem schedule_problem(const RunSpec& top, const SystemSpec& sys, const workload::OpGraph& g,
                                 PlaceNotes* notes = nullptr);

/// The checks simulate_placement's device runs make before they simulate (check_device on
/// each device's ops): `bpsim validate` of a system config. Throws InputError.
void check_placement(const RunSpec& top, const SystemSpec& sys, const workload::OpGraph& g, const Placement& placement);

/// Simulates `placement` of `g`: each device's ops on its model (simulate_device), then the
/// timeline. The result's `placement` is the mode's name.
SystemResult simulate_placement(const RunSpec& top, const SystemSpec& sys, const workload::OpGraph& g,
                                const Placement& placement);

/// The whole step of a system config: load the workload, place, simulate (or the parallel run).
/// `before_simulating`, when given, runs once every check that needs no device simulation has
/// passed and before the first device is simulated (`bpsim run` claims its output folder there).
SystemResult run_system(const RunSpec& top, const SystemSpec& sys, const std::function<void()>& before_simulating = {});

}  // namespace bpsim::system
