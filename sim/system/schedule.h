#pragma once
/// Placement and scheduling of one op graph on the devices of a system (docs/system.md
/// "Placement and scheduling"): a list scheduler that places ops on devices (auto, split),
/// and the timeline that puts the devices' simulated op costs on one clock with the
/// transfers between them. Plain data and arithmetic, no SystemC.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/ir/ir.h"
#include "sim/system/fabric.h"
#include "sim/system/system_report.h"

namespace bpsim::system {

/// What the list scheduler knows of the system.
struct ScheduleProblem {
  const workload::OpGraph* graph = nullptr;
  /// cost_s[op][device]: the op's estimated seconds on the device; negative: not a candidate.
  std::vector<std::vector<double>> cost_s;
  std::vector<uint32_t> memory_owner;  ///< per device: the device whose DRAM it uses
  std::vector<uint64_t> budget_bytes;  ///< per device: what its memory may hold
  Fabric fabric;
  uint32_t fallback = 0;  ///< the device of an op no device is a candidate for
};

/// Where each op goes and in which order each device runs its ops.
struct Placement {
  std::vector<uint32_t> device_of;          ///< per op of the graph
  std::vector<std::vector<uint32_t>> order;  ///< per device: its ops, in the order it runs them
  /// Per op: 0, or 1 for the second stage of a split schedule (it starts after every
  /// stage-0 op has ended: the barrier between the forward and the backward DAG).
  std::vector<uint8_t> stage;
  double estimate_s = 0;  ///< the scheduler's own estimate of the step (0 for manual)
};

/// Seconds to carry `bytes` from device `a` to `b`: 0 when they use one memory, else
/// α–β over route(a, b) (no contention: the scheduler's estimate).
double carry_seconds(const Fabric& f, const std::vector<uint32_t>& memory_owner, uint32_t a, uint32_t b,
                     uint64_t bytes);

/// The bytes an op `consumer` reads that op `producer` wrote (what a cross-device dependency carries).
uint64_t carried_bytes(const workload::OpGraph& g, uint32_t producer, uint32_t consumer,
                       std::vector<uint32_t>* tensors = nullptr);

/// auto: HEFT-like list scheduling of the whole graph (forward, backward and update as one
/// DAG). Priority: upward rank (mean cost over an op's candidates plus the costliest path
/// to an exit, mean transfer costs on the edges); each op, highest rank first, goes to the
/// candidate device where it finishes earliest (appended after that device's last op), among
/// those whose memory budget still holds every tensor it touches (tensors are counted once
/// per device and never freed: a conservative footprint). Throws InputError naming the op
/// when no candidate has room.
Placement schedule_joint(const ScheduleProblem& p);

/// split: the forward DAG (Phase::forward ops) scheduled as above, then the rest (backward,
/// recompute, update) as a second DAG whose inputs — the saved tensors and the loss gradient
/// — it treats as available on every device (the split method's view), on devices that are
/// all free at the barrier. The timeline then carries the saved tensors where they are read.
Placement schedule_split(const ScheduleProblem& p);

/// manual: `device_of` given; each device runs its ops in graph order.
Placement placement_of(const workload::OpGraph& g, std::vector<uint32_t> device_of, uint32_t devices);

/// The step on one clock: each op starts when its device has finished its previous op, the
/// devices that share its memory are not running one (the one DRAM serves one op at a
/// time), every same-device dependency has ended and every input from another device has
/// arrived. An input crosses when its producer ends: the tensors the consumer reads that the
/// producer wrote, carried once per (tensor, destination memory) over route()'s links, each
/// link carrying one transfer at a time in the order they become ready (FIFO), cut-through
/// (hops·α + bytes/β; every link of the route held for the whole transfer). A dependency that
/// carries no tensor is honoured at the producer's end.
struct TimelineProblem {
  const workload::OpGraph* graph = nullptr;
  const Placement* placement = nullptr;
  std::vector<double> duration_s;  ///< per op, from its device's simulation
  std::vector<uint32_t> memory_owner;
  std::vector<std::string> device_names;
  Fabric fabric;
};

struct Timeline {
  std::vector<double> start_s, end_s;  ///< per op
  double step_s = 0;
  std::vector<TransferRecord> transfers;  ///< in the order they start
  std::vector<LinkFigures> links;         ///< every link that carried a byte, in link order
  std::vector<PathStep> critical_path;    ///< first to last
};

Timeline simulate_timeline(const TimelineProblem& p);

}  // namespace bpsim::system
