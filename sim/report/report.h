#pragma once
/// report.json (the contract in docs/report.md), ops.csv and the terminal summary.
#include <array>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <optional>

#include <nlohmann/json.hpp>

#include "sim/core/energy.h"
#include "sim/core/enum_names.h"
#include "sim/core/output_files.h"
#include "sim/ir/ir.h"
#include "sim/ir/op_record.h"

namespace bpsim {

class StatGroup;
namespace config {
class Node;
}

/// Where a run's per-op entries go (run.report_ops): ops.csv always has every op.
enum class ReportOps : uint8_t {
  automatic,  ///< in report.json unless the ops are streamed (a trace replayed as it is read)
  all,        ///< in report.json too
  none,       ///< in ops.csv alone; report.json gives their number, "op_count"
};
inline constexpr config::EnumName<ReportOps> kReportOpsNames[] = {
    {ReportOps::automatic, "auto"}, {ReportOps::all, "all"}, {ReportOps::none, "none"}};

/// Whether report.json holds the op entries, for a run that streams its ops or not.
inline bool ops_in_report(ReportOps mode, bool streamed) {
  return mode == ReportOps::all || (mode == ReportOps::automatic && !streamed);
}

/// The rates a run's figures are measured against (docs/report.md, "Derived figures"): the
/// accelerator's clock and peak MACs per cycle, and the memory system's peak bandwidth.
struct Rates {
  double clock_ghz = 1;
  double peak_macs_per_cycle = 0;    ///< 0: the accelerator computes none (utilisation is null)
  double peak_dram_bytes_per_s = 0;  ///< the memory system's peak_bytes_per_s
};

/// Figures derived from an op's (or a phase's, or the run's) counts over its cycles, each
/// defined once in docs/report.md; empty (null in report.json, an empty ops.csv field) where
/// undefined: no cycles, no MAC units, no DRAM bytes.
struct Derived {
  std::optional<double> utilisation;         ///< macs_executed / (peak_macs_per_cycle × cycles)
  std::optional<double> dram_gbps;           ///< DRAM bytes read and written / seconds / 1e9
  std::optional<double> onchip_gbps;         ///< on-chip bytes read and written / seconds / 1e9
  std::optional<double> macs_per_dram_byte;  ///< roofline x: macs_executed / DRAM bytes
  std::optional<double> gmacs_per_s;         ///< roofline y: macs_executed / seconds / 1e9
};
Derived derive(const Rates& rates, uint64_t cycles, uint64_t macs_executed, uint64_t dram_bytes, uint64_t onchip_bytes);
/// Sets the Derived keys of `j` (null where a figure is undefined).
void put_derived(nlohmann::json& j, const Derived& d);

/// The rates a finished report was built with: its clock_ghz and its roofline's peaks.
Rates rates_of(const nlohmann::json& report);
/// The derived figures of one of a report's op entries. The entries ReportBuilder::finish
/// returns carry none (a run of many ops would hold five numbers more per op): they are
/// derived here, from the entry's counts, whenever an entry is written (report.json, ops.csv,
/// report.html, the timeline). An entry read back from report.json has them: those are used.
Derived op_figures(const Rates& rates, const nlohmann::json& op);

/// What the report adds to an op's record: its energy and derived figures.
struct OpFigures {
  double energy_pj = 0;
  Derived derived;
};

/// The resolved config as a JSON object, keys in the config's order: maps become objects,
/// lists arrays, unquoted scalars numbers, booleans or null where YAML's core schema reads
/// them so, everything else strings.
nlohmann::ordered_json config_json(const config::Node& root);

struct ReportInputs {
  std::string kind;
  uint64_t total_cycles = 0;  ///< the model's end of the step (ops may overlap)
  nlohmann::json network;     ///< the model's "network" object, or null
  const EnergyTable& energy;
  const StatGroup& stats;
  const workload::MemorySummary* memory_summary = nullptr;
  std::string run_name;
  uint64_t seed = 1;
  const nlohmann::ordered_json& config;  ///< the resolved config (config_json), echoed for reproducibility
};

/// Prices every op's actions, adds leakage over simulated time, sums ops into phases and
/// totals, one record at a time (a streamed run never holds them all). Each op's report
/// entry goes to `sink` when one is given, else into the report's "ops".
class ReportBuilder {
 public:
  /// Takes each op's record and its figures instead of the report's "ops".
  using OpSink = std::function<void(const OpRecord& r, const OpFigures& f)>;
  ReportBuilder(const EnergyTable& energy, const Rates& rates, OpSink sink = {});
  void add(const OpRecord& r);
  /// The report (docs/report.md's contract); call once, after the last add. Its op entries
  /// hold no derived figures (op_figures derives them as they are written).
  nlohmann::json finish(const ReportInputs& in);
  /// One entry of the report's "ops" as the report holds it in memory: the record's own
  /// fields and its energy, without the derived figures.
  static nlohmann::json op_entry(const OpRecord& r, double energy_pj);

 private:
  struct Sums {
    uint64_t cycles = 0;
    double energy_pj = 0;
    std::array<uint64_t, 9> counts{};  ///< the count keys of the contract's totals
    void add(const OpRecord& r, double energy);
    /// The sums as totals or a phase has them, over `cycles` (the run's end time for totals).
    nlohmann::json to_json(const Rates& rates, uint64_t over_cycles) const;
  };
  struct Phase {
    Sums sums;
    ActionEnergies dynamic;                   ///< action → pJ by index, per op (no name lookups)
    std::map<std::string, double> breakdown;  ///< action → pJ, from `dynamic` at the end, then leakage
  };
  const EnergyTable& m_energy;
  Rates m_rates;
  double m_seconds_per_cycle;
  OpSink m_sink;
  std::map<std::string, double> m_breakdown;
  std::map<std::string, Phase> m_phases;
  Phase* m_phase = nullptr;  ///< the last op's phase (map nodes do not move) and its name
  std::string m_phase_name;
  Sums m_totals;
  nlohmann::json m_ops;
};

/// The count keys of the contract's totals, phases and ops ("macs", …, "onchip_write_bytes",
/// "stall_cycles").
const std::vector<const char*>& count_keys();

/// An ops.csv column a model adds after the standard ones (AcceleratorKind::csv_columns):
/// its header and the JSON pointer of its value in an op's `extra` ("/mapping/loop_order");
/// the field is empty for an op without it. Models that declare none keep the standard CSV.
struct CsvColumn {
  std::string header;
  std::string extra_pointer;
};
using CsvColumns = std::vector<CsvColumn>;
/// A CsvColumn's pointer parsed once: the pointer, and its reference tokens (unescaped) for a
/// walk through objects, the shape of every model's extra (report.cpp, ColumnValues).
struct ExtraPath {
  nlohmann::json::json_pointer pointer;
  std::vector<std::string> tokens;
  size_t shared;  ///< leading tokens equal to the previous column's
};

/// One row per op, in the order of report["ops"].
std::string ops_csv(const nlohmann::json& report, const CsvColumns& columns = {});
/// ops_csv's bytes written to `out` a few rows at a time.
void write_ops_csv(std::ostream& out, const nlohmann::json& report, const CsvColumns& columns = {});

/// The readable summary printed by `bpsim run`: times, energies, bytes and clocks in the
/// units of sim/core/units.h, the model's "network" figures as lines of words.
std::string summary_table(const nlohmann::json& report);

/// One line per figure of the run that says its hardware mostly waited (empty when none):
/// stall cycles above half the cycles (totals.stall_cycles) or utilisation below 10%
/// (totals.utilisation), each from the report's own totals (docs/report.md defines them).
/// `idle_words`: the model's words for its peak's hardware left idle (AcceleratorKind::idle_words).
std::string run_warnings(const nlohmann::json& report,
                         const std::string& idle_words = "the compute units are mostly idle");

/// The ops of a run whose records are not kept in memory (a streamed trace, or any run
/// whose report leaves out its op entries: run.report_ops, docs/report.md): each op's CSV
/// row goes straight into ops.csv's temporary as it finishes and, with `entries`, its
/// report entry into a hidden temporary joined into report.json by write_report_files.
/// Both are removed however the run ends; memory stays flat however many ops run.
class OpSpill {
 public:
  OpSpill(const std::string& dir, CsvColumns columns = {}, bool entries = true);
  OpSpill(const OpSpill&) = delete;
  OpSpill& operator=(const OpSpill&) = delete;
  /// Writes the op's CSV row and, with entries, its report entry (the bytes dump(2) of the
  /// report holding it gives).
  void add(const OpRecord& r, const OpFigures& f);
  /// Whether report.json gets the op entries (else it has "op_count" and no "ops").
  bool entries() const { return m_ops != nullptr; }
  uint64_t count() const { return m_count; }

 private:
  friend void write_report_files(const nlohmann::json&, const std::string&, OpSpill*, const CsvColumns&,
                                 const nlohmann::ordered_json*);
  std::unique_ptr<output::File> m_ops;  ///< the report's op entries, never renamed: copied into report.json
  output::File m_csv;                   ///< becomes ops.csv
  CsvColumns m_columns;
  std::vector<ExtraPath> m_pointers;  ///< m_columns' pointers, parsed once
  /// The model's columns of ops whose columns all come from their shared extra
  /// (OpRecord::shared_extra), per shared object: those ops' rows end alike.
  std::map<std::shared_ptr<const nlohmann::json>, std::string> m_shared_tails;
  uint64_t m_count = 0;
  std::string m_buf, m_row, m_columns_text;
};

/// Writes report.json and ops.csv into `dir`: both are written in full under temporary
/// names first, then renamed into place, ops.csv first and report.json last, so neither
/// name ever holds a half-written file and, with the folder's lock held for the run (no
/// other bpsim writes there meanwhile), the two come from the same run. On any failure
/// both temporaries are removed and the previous files stay as they were. With `spill`,
/// the ops come from it (the report has none) and the bytes are those of the report
/// holding them; a spill without entries gives a report without "ops", with "op_count"
/// instead. `columns`: the model's own ops.csv columns (a spill has its own). `config`: the
/// report's "config" in the config's key order (config_json), written in that order in place
/// of the report's own (whose keys nlohmann::json keeps sorted).
void write_report_files(const nlohmann::json& report, const std::string& dir, OpSpill* spill = nullptr,
                        const CsvColumns& columns = {}, const nlohmann::ordered_json* config = nullptr);

/// report.json's text: dump(2) of `report` and a newline, with `config` (when given) in
/// place of the report's "config", keys in its own order, and each op entry with its derived
/// figures (op_figures).
std::string report_text(const nlohmann::json& report, const nlohmann::ordered_json* config = nullptr);
/// report_text's bytes written to `out`, the op entries one at a time: the whole text is never
/// held at once.
void write_report_text(std::ostream& out, const nlohmann::json& report, const nlohmann::ordered_json* config = nullptr);

}  // namespace bpsim
