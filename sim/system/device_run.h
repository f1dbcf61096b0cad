#pragma once
/// One device of a system of accelerators, simulated on its own (docs/system.md): its ops run
/// on its model exactly as a one-accelerator run would run them, in a child process (SystemC
/// elaborates once per process, so each device's hierarchy gets a fresh one). The system
/// layer then places those per-op costs on a common clock with the transfers between devices.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/engine/engine.h"
#include "sim/ir/ir.h"

namespace bpsim::system {

/// What a device's run gives back: its report.json (docs/report.md), per-op entries included
/// (report_ops forced to all), in the order its ops finished.
struct DeviceReport {
  nlohmann::json report = nlohmann::json::object();
  double clock_ghz = 0;  ///< report["clock_ghz"]: converts the ops' cycles to seconds
};

/// Per op of `g`, the graph a device ran (ops in the order it ran them): its entry in the
/// device's report and its seconds on the device's clock, counted from the end of the op
/// before it (start − previous end + cycles: a gap before an op is its time), so that they
/// add up to the device's own step. The system's timelines run a device's ops one at a time:
/// a model that overlaps them is refused (InputError); a report that does not match `g` is
/// std::runtime_error. The entries point into `report`, which must outlive them.
struct OpTimes {
  std::vector<const nlohmann::json*> entry;
  std::vector<double> seconds;
};
OpTimes op_times(const workload::OpGraph& g, const DeviceReport& report, const std::string& device);

/// Runs `spec` (a one-device RunSpec: kind, sections and workload set; no stream) in a forked
/// child and returns its report. An InputError in the child (a model refusing the ops it was
/// given) is rethrown here as an InputError with the same message, prefixed by `device`; any
/// other failure as std::runtime_error. The parent's SystemC is never elaborated.
DeviceReport simulate_device(RunSpec& spec, const std::string& device);

/// The checks a run of `spec` makes before it simulates (its model built for the ops, as
/// `Simulation`'s constructor builds it: an op the model refuses, a step too large for an RTL
/// backend), in a forked child; throws as simulate_device does. For `bpsim validate`.
void check_device(RunSpec& spec, const std::string& device);

/// The ops `ops` of `g` (ids into g.ops, in execution order) as a graph of their own: ops
/// renumbered 0…n−1 in the given order, deps kept only between ops of the set (a dependency on
/// an op elsewhere is the system's to honour, through a transfer), every tensor kept with its
/// id (a tensor made elsewhere is an input that has arrived in this device's memory). The
/// memory summary is left empty: the caller accounts each device's memory.
workload::OpGraph subgraph(const workload::OpGraph& g, const std::vector<uint32_t>& ops);

}  // namespace bpsim::system
