#include "sim/engine/laws.h"

#include <fmt/format.h>

#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "sim/engine/accelerator.h"
#include "sim/report/report.h"

namespace bpsim::laws {

namespace {

using json = nlohmann::json;

[[noreturn]] void violated(const std::string& law, const std::string& where, const std::string& sides) {
  throw LawViolation("conservation law '" + law + "' broken by " + where + ": " + sides +
                     " (a bug in bpsim's accounting: please report it with the config)");
}

/// Cycles a rate allows for `amount` at `per_cycle` (0 when nothing needs doing).
double bound_cycles(double amount, double per_cycle) { return amount > 0 ? amount / per_cycle : 0.0; }

/// `cycles` against a bound, allowing the bound's rounding to a whole cycle.
bool below(uint64_t cycles, double bound) { return double(cycles) + 1.0 < bound * (1.0 - 1e-9); }

/// Both the compute and the bandwidth bound on `cycles` for these counts.
void check_bounds(const std::string& where, uint64_t cycles, uint64_t macs_executed, uint64_t dram_bytes,
                  const LawBounds& b) {
  if (macs_executed > 0 && b.macs_per_cycle <= 0)
    violated("compute_bound", where,
             fmt::format("{} MACs executed on an accelerator that declares no MAC units", macs_executed));
  const double compute = bound_cycles(double(macs_executed), b.macs_per_cycle);
  if (below(cycles, compute))
    violated("compute_bound", where,
             fmt::format("cycles {} < macs_executed {} / {} MACs per cycle = {:.1f}", cycles, macs_executed,
                         b.macs_per_cycle, compute));
  if (dram_bytes > 0 && b.dram_bytes_per_cycle > 0) {
    const double bw = bound_cycles(double(dram_bytes), b.dram_bytes_per_cycle);
    if (below(cycles, bw))
      violated("bandwidth_bound", where,
               fmt::format("cycles {} < DRAM bytes {} / {:.3f} bytes per cycle = {:.1f}", cycles, dram_bytes,
                           b.dram_bytes_per_cycle, bw));
  }
}

/// The report's figures of one op, phase or the run (docs/report.md, "Derived figures"):
/// stall cycles within its cycles, utilisation at most 1, achieved DRAM bandwidth at most the
/// peak. `utilisation` and `dram_gbps` may be absent (undefined), `peak_dram_gbps` 0 (unknown).
void check_figures(const std::string& where, uint64_t cycles, uint64_t stall_cycles,
                   const std::optional<double>& utilisation, const std::optional<double>& dram_gbps,
                   double peak_dram_gbps) {
  if (stall_cycles > cycles)
    violated("stall_within_cycles", where, fmt::format("stall_cycles {} > cycles {}", stall_cycles, cycles));
  if (utilisation && *utilisation > 1.0 + 1e-9)
    violated("utilisation_at_most_one", where, fmt::format("utilisation {} > 1", *utilisation));
  if (dram_gbps && peak_dram_gbps > 0 && *dram_gbps > peak_dram_gbps * (1.0 + 1e-9))
    violated("bandwidth_at_most_peak", where,
             fmt::format("dram_gbps {} > the memory's peak {} GB/s", *dram_gbps, peak_dram_gbps));
}

/// A figure of the report: absent when null.
std::optional<double> figure(const json& j, const char* key) {
  const json& v = j.at(key);
  return v.is_null() ? std::optional<double>() : v.get<double>();
}

/// check_figures on an object of the report (an op, a phase, the totals) over `cycles`.
void check_reported_figures(const std::string& where, const json& j, uint64_t cycles, double peak_dram_gbps) {
  check_figures(where, cycles, j.at("stall_cycles").get<uint64_t>(), figure(j, "utilisation"), figure(j, "dram_gbps"),
                peak_dram_gbps);
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)}); }

double sum_of(const json& breakdown) {
  double s = 0;
  for (const auto& [k, v] : breakdown.items()) s += v.get<double>();
  return s;
}

/// The first number in `j` that is negative, NaN or infinite: false when there is none,
/// else true with `path` (built only then: the walk visits every key of the report).
bool bad_number(const json& j, std::string& path, std::string& value) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (bad_number(it.value(), path, value)) return path.insert(0, "." + it.key()), true;
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      if (bad_number(j[i], path, value)) return path.insert(0, "[" + std::to_string(i) + "]"), true;
  } else if (j.is_number_float()) {
    const double v = j.get<double>();
    if (!std::isfinite(v) || v < 0) return value = fmt::format("{}", v), true;
  } else if (j.is_number_integer() && !j.is_number_unsigned() && j.get<int64_t>() < 0) {
    return value = fmt::format("{}", j.get<int64_t>()), true;
  }
  return false;
}

}  // namespace

void check_op(const OpRecord& r, const LawBounds& b) {
  const std::string where = "op '" + r.name + "'";
  if (r.macs != r.macs_executed + r.macs_skipped)
    violated("mac_balance", where,
             fmt::format("macs {} != macs_executed {} + macs_skipped {}", r.macs, r.macs_executed, r.macs_skipped));
  if (r.macs_skipped > 0 && r.skip_reason.empty())
    violated("skip_reason", where, fmt::format("{} MACs skipped without a stated reason", r.macs_skipped));
  if (r.macs_gated > r.macs_executed)
    violated("gated_within_executed", where,
             fmt::format("macs_gated {} > macs_executed {}", r.macs_gated, r.macs_executed));
  check_bounds(where, r.cycles, r.macs_executed, r.dram_read_bytes + r.dram_write_bytes, b);
  // The figures the report derives from the record, at a 1 GHz clock: utilisation and the
  // ratio of achieved to peak bandwidth do not depend on the clock.
  const Derived d = derive(Rates{1.0, b.macs_per_cycle, b.dram_bytes_per_cycle * 1e9}, r.cycles, r.macs_executed,
                           r.dram_read_bytes + r.dram_write_bytes, r.onchip_read_bytes + r.onchip_write_bytes);
  check_figures(where, r.cycles, r.stall_cycles, d.utilisation, d.dram_gbps, b.dram_bytes_per_cycle);
  if (r.dram_read_bytes < r.compulsory_read_bytes)
    violated("compulsory_reads", where,
             fmt::format("dram_read_bytes {} < {} bytes of tensors the op reads from DRAM", r.dram_read_bytes,
                         r.compulsory_read_bytes));
}

void check_report(const json& report, const LawBounds& b, uint64_t dram_read, uint64_t dram_write) {
  std::string path, value;
  if (bad_number(report, path, value)) violated("finite_non_negative", "report" + path, "value " + value);
  const json& totals = report.at("totals");
  const json& phases = report.at("phases");
  // Phase sums equal totals: every count, and dynamic energy (leakage is priced over each
  // phase's cycles and over the step's end time, which differ when ops overlap).
  for (const char* key : count_keys()) {
    uint64_t sum = 0;
    for (const auto& [name, p] : phases.items()) sum += p.at(key).get<uint64_t>();
    if (sum != totals.at(key).get<uint64_t>())
      violated("phases_sum_to_totals", std::string("totals.") + key,
               fmt::format("sum over phases {} != total {}", sum, totals.at(key).get<uint64_t>()));
  }
  if (!close(totals.at("energy_pj").get<double>(), sum_of(report.at("energy_breakdown_pj"))))
    violated("energy_breakdown", "totals.energy_pj",
             fmt::format("{} pJ != sum of energy_breakdown_pj {} pJ", totals.at("energy_pj").get<double>(),
                         sum_of(report.at("energy_breakdown_pj"))));
  for (const auto& [name, p] : phases.items())
    if (!close(p.at("energy_pj").get<double>(), sum_of(p.at("energy_breakdown_pj"))))
      violated("energy_breakdown", "phases." + name + ".energy_pj",
               fmt::format("{} pJ != sum of its energy_breakdown_pj {} pJ", p.at("energy_pj").get<double>(),
                           sum_of(p.at("energy_breakdown_pj"))));
  const uint64_t rd = totals.at("dram_read_bytes").get<uint64_t>(), wr = totals.at("dram_write_bytes").get<uint64_t>();
  check_bounds("the run (totals)", totals.at("cycles").get<uint64_t>(), totals.at("macs_executed").get<uint64_t>(),
               rd + wr, b);
  if (rd != dram_read || wr != dram_write)
    violated("dram_bytes_attributed", "the run (totals)",
             fmt::format("ops read {} and wrote {} DRAM bytes; the memory system moved {} and {}", rd, wr, dram_read,
                         dram_write));
  // The report's own figures, as written: each op (when the report holds them), each phase
  // (over its ops' cycles) and the run (over its end time; its stalls within its ops' cycles).
  const double peak_gbps = report.at("roofline").at("peak_dram_gbps").get<double>();
  uint64_t op_cycles = 0;
  for (const auto& [name, p] : phases.items()) {
    check_reported_figures("phases." + name, p, p.at("cycles").get<uint64_t>(), peak_gbps);
    op_cycles += p.at("cycles").get<uint64_t>();
  }
  check_figures("the run (totals)", op_cycles, totals.at("stall_cycles").get<uint64_t>(), figure(totals, "utilisation"),
                figure(totals, "dram_gbps"), peak_gbps);
  // An op entry's figures are derived as it is written (op_figures), from the report's rates.
  if (const auto ops = report.find("ops"); ops != report.end()) {
    const Rates rates = rates_of(report);
    for (const json& o : *ops) {
      const Derived d = op_figures(rates, o);
      check_figures("op '" + o.at("name").get<std::string>() + "'", o.at("cycles").get<uint64_t>(),
                    o.at("stall_cycles").get<uint64_t>(), d.utilisation, d.dram_gbps, peak_gbps);
    }
  }
  const json& mem = report.at("memory");
  if (mem.at("peak_bytes").get<uint64_t>() < mem.at("saved_after_forward_bytes").get<uint64_t>())
    violated("peak_holds_saved", "memory",
             fmt::format("peak_bytes {} < saved_after_forward_bytes {}", mem.at("peak_bytes").get<uint64_t>(),
                         mem.at("saved_after_forward_bytes").get<uint64_t>()));
}

}  // namespace bpsim::laws
