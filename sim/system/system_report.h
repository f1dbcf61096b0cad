#pragma once
/// What a system run reports (docs/system.md "Report"): one step's time and energy, each
/// device's share, each link's traffic, the transfers and the critical path, as report.json
/// (a `system` object), ops.csv with a device column, each device's own report under
/// devices/NAME/, and a console summary in human units.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/engine/engine.h"
#include "sim/system/system_spec.h"

namespace bpsim::system {

/// One device's share of the step.
struct DeviceFigures {
  std::string name, kind;
  uint64_t ops = 0;      ///< ops it ran
  double busy_s = 0;     ///< Σ its ops' durations
  double energy_pj = 0;  ///< its report's energy, plus its leakage while it waits (docs/system.md)
  uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
  uint64_t peak_memory_bytes = 0;  ///< its tensors' peak (liveness over its ops, inputs that arrived included)
  std::string memory_of;           ///< the device whose DRAM it uses (its own name when its own)
  std::string priced_by;           ///< auto, split: how the scheduler priced its ops (PlaceNotes); else empty
};

/// One directed link's traffic.
struct LinkFigures {
  std::string name;
  uint64_t bytes = 0;
  double busy_s = 0;
  double energy_pj = 0;
};

/// A tensor carried from the device that wrote it to one that reads it.
struct TransferRecord {
  std::string tensor;
  std::string src, dst;            ///< device names
  std::string producer, consumer;  ///< the op that wrote it, the first op on dst that reads it
  uint64_t bytes = 0;
  uint32_t hops = 0;
  double start_s = 0, end_s = 0;
  double energy_pj = 0;  ///< bytes × hops × pJ per byte
};

/// One element of the critical path: an op (on a device) or a transfer (over links), or
/// anything else a part adds (a collective).
struct PathStep {
  std::string type;  ///< "op", "transfer", "collective", "wait"
  std::string name;
  std::string device;  ///< the op's device; a transfer's "src->dst"
  double start_s = 0, end_s = 0;
};

/// One op as placed on the common clock (ops.csv, the report's op list).
struct PlacedOp {
  std::string name, phase, kind, device;
  double start_s = 0, end_s = 0;
  double energy_pj = 0;
  uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
};

struct SystemResult {
  std::string placement;  ///< "manual", "auto", "split", or a parallel part's word
  double step_s = 0;      ///< when the last op or transfer ends
  std::vector<DeviceFigures> devices;
  std::vector<LinkFigures> links;  ///< every link of the fabric that carried a byte
  std::vector<TransferRecord> transfers;
  std::vector<PathStep> critical_path;
  std::vector<PlacedOp> ops;
  /// Each device's own report.json (devices/NAME/report.json), by device name; empty for
  /// devices that ran no op.
  std::vector<std::pair<std::string, nlohmann::json>> device_reports;
  /// Figures of a part's own (e.g. `parallel`: data/pipeline/tensor), written as they are.
  nlohmann::json extra = nlohmann::json::object();
  /// The console's warnings about the run (e.g. a device the scheduler could not price).
  std::vector<std::string> warnings;
  /// Σ devices' energy + Σ links' energy.
  double energy_pj() const;
  uint64_t transfer_bytes() const;
};

/// A device's leakage power from its own report: Σ energy_breakdown_pj's "*.leakage" entries
/// over its totals.seconds, pJ/s, without and with the DRAM's background ("dram.leakage").
struct LeakageRates {
  double parts_pj_per_s = 0;  ///< the device's own parts (PEs, buffers, …)
  double dram_pj_per_s = 0;   ///< its DRAM's background
};
LeakageRates leakage_rates(const nlohmann::json& device_report);

/// report.json of a system run: schema, bpsim_version, run {name, seed}, `system` {…}
/// (docs/system.md "Report"), config (the merged config echoed).
nlohmann::ordered_json system_report_json(const RunSpec& top, const SystemSpec& sys, const SystemResult& r);

/// Writes report.json, ops.csv (one row per op, with its device, on the common clock) and
/// devices/NAME/report.json under `dir` (claimed by the caller), each file atomically.
void write_system_outputs(const std::string& dir, const nlohmann::ordered_json& report, const SystemResult& r);

/// The console summary: step time, energy, per-device and per-link lines, in human units.
void print_system_summary(std::ostream& os, const SystemSpec& sys, const SystemResult& r);

}  // namespace bpsim::system
