#pragma once
/// report.json (DESIGN.md's contract), ops.csv and the terminal summary.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/core/energy.h"
#include "sim/engine/accelerator.h"
#include "sim/workload/ir.h"

namespace bpsim {

class StatGroup;

struct ReportInputs {
  std::string kind;
  const Accelerator& acc;
  const EnergyTable& energy;
  const StatGroup& stats;
  const workload::MemorySummary* memory_summary = nullptr;
  std::string run_name;
  uint64_t seed = 1;
  std::string config_yaml;  ///< the resolved config, echoed for reproducibility
};

/// Prices every op's actions, adds leakage over simulated time, sums ops into phases and
/// totals. Deterministic: same inputs, byte-identical dump.
nlohmann::json build_report(const ReportInputs& in);

/// One row per op, in the order of report["ops"].
std::string ops_csv(const nlohmann::json& report);

/// The readable summary printed by `bpsim run`.
std::string summary_table(const nlohmann::json& report);

/// Writes report.json and ops.csv into `dir` atomically (temporary file, then rename), so
/// a crash never leaves a half-written file under the final name.
void write_report_files(const nlohmann::json& report, const std::string& dir);

}  // namespace bpsim
