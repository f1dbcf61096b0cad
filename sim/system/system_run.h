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

/// Where each op of `g` goes under `sys.placement` (manual: the spec's `device:` keys, read
/// from the top-level workload section; single: every op on placement.default; auto, split:
/// the list scheduler with each device's own estimates). Throws InputError.
Placement place(const RunSpec& top, const SystemSpec& sys, const workload::OpGraph& g);
/// Whether the list scheduler (placement auto, split) can put an op on `dev`: its kind gives a
/// cycle estimate (AcceleratorKind::op_cost) and it has a clock_ghz to turn cycles into time.
bool schedulable(const DeviceSpec& dev);
/// The console's warnings about a placement: under auto and split, each device the scheduler
/// cannot consider (not schedulable), which therefore runs only ops no device could take.
std::vector<std::string> placement_warnings(const SystemSpec& sys);

/// The scheduler's problem for `g` on `sys`: each op's estimated seconds on each device
/// (AcceleratorKind::op_cost at the device's clock_ghz; −1 where the kind has no estimate or
/// no clock_ghz parameter, or refuses the op), memory owners and budgets, the fabric.
ScheduleProblem schedule_problem(const SystemSpec& sys, const workload::OpGraph& g);

/// Simulates `placement` of `g`: each device's ops on its model (simulate_device), then the
/// timeline. The result's `placement` is the mode's name.
SystemResult simulate_placement(const RunSpec& top, const SystemSpec& sys, const workload::OpGraph& g,
                                const Placement& placement);

/// The whole step of a system config: load the workload, place, simulate (or the parallel run).
/// `before_simulating`, when given, runs once every check that needs no device simulation has
/// passed and before the first device is simulated (`bpsim run` claims its output folder there).
SystemResult run_system(const RunSpec& top, const SystemSpec& sys, const std::function<void()>& before_simulating = {});

}  // namespace bpsim::system
