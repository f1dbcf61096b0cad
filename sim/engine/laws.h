#pragma once
/// Conservation laws checked on every run, by the framework rather than by each model
/// (docs/report.md lists them). A record or report that breaks one is a bug in bpsim, not
/// in the user's input: `LawViolation` maps to exit code 1 and names the op, the law and
/// both sides, and the report is never written.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace bpsim {

struct OpRecord;

class LawViolation : public std::logic_error {
 public:
  explicit LawViolation(const std::string& msg) : std::logic_error(msg) {}
};

/// What the laws compare a run against: the accelerator's peak rates, in its own cycles.
struct LawBounds {
  double macs_per_cycle = 0;        ///< peak MACs of all compute units per cycle (0: computes none)
  double dram_bytes_per_cycle = 0;  ///< peak DRAM interface bandwidth per accelerator cycle
};

namespace laws {

/// Per op: macs = executed + skipped, a stated reason for skipped MACs, gated ≤ executed,
/// cycles ≥ the compute bound and ≥ the DRAM bandwidth bound, DRAM reads ≥ the op's
/// compulsory reads (`OpRecord::compulsory_read_bytes`); and the report's figures of it
/// (derive()): stall cycles ≤ cycles, utilisation ≤ 1, achieved DRAM bandwidth ≤ the peak.
/// Throws LawViolation.
void check_op(const OpRecord& r, const LawBounds& b);

/// Whole run: phase sums equal totals, energy equals its breakdown (totals and each
/// phase), cycles ≥ compute and bandwidth bounds, DRAM bytes of the ops equal the memory
/// system's, peak ≥ saved-after-forward, no number anywhere is negative, NaN or infinite,
/// and the figures of each op in the report, each phase and the totals within their bounds
/// (as check_op's). `dram_read`/`dram_write` are the memory system's own counters.
void check_report(const nlohmann::json& report, const LawBounds& b, uint64_t dram_read, uint64_t dram_write);

}  // namespace laws
}  // namespace bpsim
