#pragma once
/// Spec, then construct (Timeloop): `prepare` parses and validates everything into plain
/// structs; `simulate` builds the SystemC hierarchy, runs it once, and returns the report.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/config_node.h"
#include "sim/core/energy.h"
#include "sim/core/enum_names.h"
#include "sim/core/limits.h"
#include "sim/core/params.h"
#include "sim/engine/accelerator.h"
#include "sim/ir/ir.h"
#include "sim/report/report.h"

namespace bpsim {

class ProgressLine;

namespace memory {
class DramSystem;
}

/// run.reuse: whether models reuse an identical op's cost (docs/techniques.md "Result reuse").
enum class Reuse { on, off };
inline constexpr config::EnumName<Reuse> kReuseNames[] = {{Reuse::on, "on"}, {Reuse::off, "off"}};

/// The `run:` section, filled by run_schema()'s declarations.
struct RunParams {
  uint64_t seed = 0;
  std::string name;
  ReportOps report_ops = ReportOps::automatic;
  limits::Table limits;
  Reuse reuse = Reuse::on;
};

/// How a run went, beside its report: never part of report.json, which is the same bytes
/// whatever these say (run_stats.json, docs/techniques.md "Result reuse").
struct RunStatistics {
  Reuse reuse = Reuse::on;
  ReuseStats ops;               ///< the model's ops, and those whose cost was reused
  double simulate_seconds = 0;  ///< wall time of the simulation (sc_start), without parsing or writing
};

struct RunSpec {
  std::string config_path;
  config::Node root;  ///< merged config, overrides applied
  const AcceleratorKind* kind = nullptr;
  std::unique_ptr<config::Values> accelerator;
  std::unique_ptr<config::Values> memory;
  RunParams run;
  EnergyTable energy;
  std::shared_ptr<workload::OpGraph> workload;  ///< null when the config has none, or streams it
  std::shared_ptr<workload::OpStream> stream;   ///< a trace replayed as it is read
  /// The config has a `system:` section (docs/system.md): prepare() has read `run:` only, and
  /// left the devices' sections and the workload to the system layer (sim/system).
  bool system = false;
};

/// Validates one device's `accelerator:`, `memory:` and `energy:` sections into `spec` (kind,
/// accelerator, memory, energy), naming keys under `prefix` ("" at the top level,
/// "system.devices.NAME." in a system); a missing section is reported at `where`.
void prepare_device(RunSpec& spec, const config::Node* accelerator, const config::Node* memory,
                    const config::Node* energy, const Location& where, const std::string& prefix);

/// Loads CONFIG (with includes), applies `--set` overrides and validates every section.
/// Throws InputError (exit code 2) on any problem; never starts SystemC. With
/// `allow_stream`, a `workload: {trace: FILE}` on a kind that streams ops is opened, not
/// read: its records are checked as the run reaches them (simulate rethrows their errors).
RunSpec prepare(const std::string& config_path, const std::vector<std::string>& overrides, bool allow_stream = false);

/// Every energy action any component can count (the known names of energy tables).
std::vector<ActionDecl> all_known_actions();
/// Every leakage unit any component can declare (the known keys of energy.leakage_mw).
std::vector<ActionDecl> all_known_leakage();

/// A run's SystemC hierarchy: the memory system and the accelerator, built (so every check
/// a model makes while mapping the workload has run) but not yet simulated. `bpsim
/// validate` builds one and stops; `bpsim run` builds one before touching the disk.
class Simulation {
 public:
  explicit Simulation(RunSpec& spec);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;
  /// Runs sc_start once and assembles report.json (docs/report.md), checking the
  /// conservation laws on every op and on the report (sim/engine/laws.h). One call per
  /// process: SystemC elaborates once. With `spill`, op entries go to it as ops finish,
  /// and the returned report has no "ops" (write_report_files joins them). With `progress`,
  /// ops done (of the graph's, when known) and simulated cycles are shown on it as ops finish.
  nlohmann::json run(OpSpill* spill = nullptr, ProgressLine* progress = nullptr);
  /// After run(): the reuse counts and the simulation's wall time.
  RunStatistics statistics() const;
  /// After run(): the resolved config in its own key order (config_json), as the report
  /// echoes it; write_report_files takes it to keep that order in report.json.
  const nlohmann::ordered_json& config() const { return m_config; }

 private:
  RunSpec& m_spec;
  std::unique_ptr<memory::DramSystem> m_mem;
  std::unique_ptr<Accelerator> m_acc;
  double m_simulate_seconds = 0;
  nlohmann::ordered_json m_config;
};

/// Simulation(spec).run(spill).
nlohmann::json simulate(RunSpec& spec, OpSpill* spill = nullptr);

/// The top-level schema of a run config's `run:` section.
std::shared_ptr<const config::Schema> run_schema();

}  // namespace bpsim
